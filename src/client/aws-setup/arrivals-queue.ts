/**
 * The arrivals queue and the bucket notification that fills it, for `pipeline watch`: an SQS queue
 * (PIPELINE_ARRIVALS_QUEUE) whose policy lets the lake bucket send to it, and an ObjectCreated
 * notification for the keys under `raw/`. Like the rest of setup: created when missing, reported
 * when present, never changed; a queue whose policy does not let the bucket send, or a notification
 * of ours that differs, is reported outdated. The bucket's other notifications are kept as they are
 * (S3 replaces the whole notification configuration on every write).
 */
import type { Event, NotificationConfiguration, QueueConfiguration } from '@aws-sdk/client-s3';
import { GetBucketNotificationConfigurationCommand, PutBucketNotificationConfigurationCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { awsCall } from '../../activities/aws/aws-errors';
import { lakePaths } from '../../activities/aws/lake-paths';
import { arrivalsQueueName, isQueueMissing } from '../../arrivals/sqs-queue';
import { VISIBILITY_SECONDS } from '../../arrivals/queue-source';
import type { AwsConfig } from '../../config';
import type { SetupStep } from './setup';

/** The notification's id in the bucket's configuration: how setup finds its own among others. */
export const ARRIVALS_NOTIFICATION_ID = 'pipeline-raw-arrivals';
const EVENTS: Event[] = ['s3:ObjectCreated:*'];
/** 14 days, SQS's longest: a watcher stopped over a long weekend still finds what arrived. */
const RETENTION_SECONDS = 14 * 24 * 3600;

/** The queue policy that lets the lake bucket (and only it) send notifications to the queue. */
export function arrivalsQueuePolicy(queueArn: string, bucket: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'LakeBucketSendsRawArrivals',
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnLike: { 'aws:SourceArn': bucketArn(queueArn, bucket) } },
      },
    ],
  });
}

/** The bucket's ARN in the queue's partition (aws, aws-cn, aws-us-gov). */
function bucketArn(queueArn: string, bucket: string): string {
  return `arn:${queueArn.split(':')[1] ?? 'aws'}:s3:::${bucket}`;
}

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** Whether a queue policy lets the bucket send to the queue (ours, or an operator's own that does). */
export function policyLetsBucketSend(policy: string | undefined, queueArn: string, bucket: string): boolean {
  if (!policy) return false;
  let doc: { Statement?: unknown };
  try {
    doc = JSON.parse(policy) as { Statement?: unknown };
  } catch {
    return false;
  }
  return asList(doc.Statement).some((raw) => {
    const s = raw as { Effect?: string; Principal?: unknown; Action?: unknown; Condition?: unknown };
    const principal = s.Principal as { Service?: unknown } | string | undefined;
    const fromS3 = principal === '*' || asList(typeof principal === 'object' ? principal.Service : undefined).includes('s3.amazonaws.com');
    const sends = asList(s.Action).some((a) => a === 'sqs:SendMessage' || a === 'sqs:*');
    const forBucket = s.Condition === undefined || JSON.stringify(s.Condition).includes(bucketArn(queueArn, bucket));
    return s.Effect === 'Allow' && fromS3 && sends && forBucket;
  });
}

function ours(c: QueueConfiguration, queueArn: string | undefined, rawKey: string): boolean {
  const prefix = c.Filter?.Key?.FilterRules?.find((r) => r.Name?.toLowerCase() === 'prefix')?.Value;
  return c.QueueArn === queueArn && prefix === rawKey && EVENTS.every((e) => c.Events?.includes(e));
}

export async function ensureArrivalsQueue(
  s3: S3Client,
  sqs: SQSClient,
  config: AwsConfig,
  record: (step: SetupStep) => void,
  options: { apply: boolean; hasBucket: boolean },
): Promise<void> {
  const name = arrivalsQueueName(config);
  const queueRes = `SQS queue ${name}`;
  const rawKey = lakePaths(config).rawKey;
  const noteRes = `S3 notification ${ARRIVALS_NOTIFICATION_ID} (s3://${config.bucket}/${rawKey} -> ${name})`;

  let queueUrl: string | undefined;
  try {
    queueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch (err) {
    if (!isQueueMissing(err)) await awsCall(queueRes, 'GetQueueUrl', () => Promise.reject(err));
  }
  const queueArnOf = async (url: string) =>
    (
      await awsCall(queueRes, 'GetQueueAttributes', () =>
        sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn', 'Policy'] })),
      )
    ).Attributes ?? {};

  let queueArn: string | undefined;
  if (queueUrl) {
    const attrs = await queueArnOf(queueUrl);
    queueArn = attrs.QueueArn;
    if (queueArn && !policyLetsBucketSend(attrs.Policy, queueArn, config.bucket)) {
      record({
        resource: queueRes,
        state: 'outdated',
        detail:
          `its policy does not let s3://${config.bucket} send to it, so no notification reaches it; setup leaves an existing queue as it is: ` +
          `add a statement allowing s3.amazonaws.com sqs:SendMessage from ${bucketArn(queueArn, config.bucket)}, or delete the queue and apply again`,
      });
    } else record({ resource: queueRes, state: 'exists' });
  } else if (!options.apply) {
    record({ resource: queueRes, state: 'missing', detail: `would create, for pipeline watch (sent to by s3://${config.bucket} only)` });
  } else {
    const created = await awsCall(queueRes, 'CreateQueue', () =>
      sqs.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: {
            VisibilityTimeout: String(VISIBILITY_SECONDS),
            ReceiveMessageWaitTimeSeconds: '20',
            MessageRetentionPeriod: String(RETENTION_SECONDS),
          },
        }),
      ),
    );
    queueUrl = created.QueueUrl!;
    queueArn = (await queueArnOf(queueUrl)).QueueArn;
    if (!queueArn) throw new Error(`${queueRes}: SQS returned no QueueArn`);
    // The ARN (with the account) is known only once the queue exists, so the policy comes second.
    const policy = arrivalsQueuePolicy(queueArn, config.bucket);
    await awsCall(queueRes, 'SetQueueAttributes', () =>
      sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { Policy: policy } })),
    );
    record({ resource: queueRes, state: 'created', detail: `sent to by s3://${config.bucket} only, messages kept 14 days` });
  }

  const current: NotificationConfiguration = options.hasBucket
    ? await awsCall(`S3 bucket ${config.bucket}`, 'GetBucketNotificationConfiguration', () =>
        s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: config.bucket })),
      )
    : {};
  const queues = current.QueueConfigurations ?? [];
  if (queues.some((c) => ours(c, queueArn, rawKey))) return record({ resource: noteRes, state: 'exists' });
  const mine = queues.find((c) => c.Id === ARRIVALS_NOTIFICATION_ID);
  if (mine) {
    return record({
      resource: noteRes,
      state: 'outdated',
      detail: `sends ${mine.Events?.join(', ') ?? 'no events'} to ${mine.QueueArn ?? 'no queue'}; setup leaves it as it is: edit it or remove it and apply again`,
    });
  }
  const what = `s3:ObjectCreated:* under ${rawKey}`;
  if (!options.apply || !queueArn) return record({ resource: noteRes, state: 'missing', detail: `would send ${what}` });
  const mineNow: QueueConfiguration = {
    Id: ARRIVALS_NOTIFICATION_ID,
    QueueArn: queueArn,
    Events: EVENTS,
    Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: rawKey }] } },
  };
  await awsCall(`S3 bucket ${config.bucket}`, 'PutBucketNotificationConfiguration', () =>
    s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: config.bucket,
        NotificationConfiguration: {
          TopicConfigurations: current.TopicConfigurations,
          LambdaFunctionConfigurations: current.LambdaFunctionConfigurations,
          EventBridgeConfiguration: current.EventBridgeConfiguration,
          QueueConfigurations: [...queues, mineNow],
        },
      }),
    ),
  );
  record({ resource: noteRes, state: 'created', detail: `sends ${what}` });
}
