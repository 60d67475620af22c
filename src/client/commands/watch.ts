/**
 * `pipeline watch`: starts a date's run when its raw files have arrived, instead of waiting for the
 * schedule. aws: the bucket's ObjectCreated notifications for raw/, read from the arrivals queue
 * (`pipeline aws setup` creates both); local: the lake folder, listed every few seconds.
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ApplicationFailure, msToNumber } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { awsErrorName } from '../../activities/aws/aws-errors';
import { createAwsClients, destroyAwsClients } from '../../activities/aws/clients';
import { Lake } from '../../activities/local/lake';
import type { AwsConfig } from '../../config';
import { loadConfig } from '../../config';
import { arrivalsQueueOf } from '../../config/aws';
import { FolderSource } from '../../arrivals/folder-source';
import { bucketLister, lakeFolderLister } from '../../arrivals/partitions';
import { QueueSource } from '../../arrivals/queue-source';
import { temporalRunStarter } from '../../arrivals/run-starter';
import { arrivalsQueueUrl, createSqsClient, isQueueMissing } from '../../arrivals/sqs-queue';
import type { ArrivalSource } from '../../arrivals/watcher';
import { formatSeconds, watchArrivals } from '../../arrivals/watcher';
import { connectClient } from '../connection';
import { isConnectionError, operatorMessage, UserError } from '../errors';
import { printable } from '../format';

function parseDurationOption(value: string): number {
  let ms: number;
  try {
    ms = msToNumber(value as Parameters<typeof msToNumber>[0]);
  } catch {
    ms = NaN;
  }
  if (!Number.isFinite(ms) || ms <= 0) throw new InvalidArgumentError(`expected a duration such as "30 seconds", "2m" or "500ms"`);
  return ms;
}

const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
]);
const DENIED_ERRORS = new Set(['AccessDenied', 'AccessDeniedException', 'AuthorizationError']);

/**
 * One line for an AWS failure an operator can fix; undefined when it may pass (throttling, and a
 * network failure once the watcher has reached the queue).
 */
function awsProblem(err: unknown, config: AwsConfig, starting = false): string | undefined {
  const name = awsErrorName(err);
  const queue = arrivalsQueueOf(config);
  const text = String((err as Error).message ?? err).replace(/\s+/g, ' ');
  if (isQueueMissing(err))
    return `watch: the arrivals queue ${queue} does not exist (PIPELINE_ARRIVALS_QUEUE); create it and the bucket's notification with \`pipeline aws setup --apply\``;
  if (CREDENTIAL_ERRORS.has(name))
    return `watch: no usable AWS credentials (${name}: ${text}); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where a role is attached`;
  if (DENIED_ERRORS.has(name) || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 403)
    return `watch: AWS refused the call (${name}: ${text}); the watcher needs deploy/aws/watch-iam-policy.json`;
  if (name === 'NoSuchBucket')
    return `watch: the bucket ${config.bucket} does not exist (PIPELINE_S3_BUCKET); run \`pipeline aws setup --apply\``;
  const code = String((err as { code?: unknown }).code ?? '');
  if (starting && /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|Invalid URL|InvalidAddress/i.test(`${name} ${code} ${text}`))
    return `watch: cannot reach the arrivals queue ${queue} (${name}: ${text}); check PIPELINE_ARRIVALS_QUEUE and PIPELINE_AWS_ENDPOINT_URL`;
  return undefined;
}

/** A failure with the watcher's configuration or permissions, which waiting does not fix. */
function fatalLine(err: unknown, aws: AwsConfig | undefined): string | undefined {
  if (err instanceof UserError) return err.message;
  if (err instanceof ApplicationFailure && err.nonRetryable) return `watch: ${err.message}`;
  if (aws) {
    const line = awsProblem(err, aws);
    if (line) return line;
  }
  if (!isConnectionError(err)) {
    const temporal = operatorMessage(err);
    if (temporal) return temporal;
  }
  return undefined;
}

export function registerWatchCommand(program: Command): void {
  program
    .command('watch')
    .description(
      "start a date's run when all three of its raw partitions have files and have been quiet a while " +
        '(aws: S3 notifications from the arrivals queue; local: the lake folder); a run of the date that exists is only signalled',
    )
    .addOption(
      new Option('--quiet-period <duration>', 'how long a complete date must go without new files before its run starts')
        .argParser(parseDurationOption)
        .default(30_000, '30 seconds'),
    )
    .addOption(
      new Option('--scan-interval <duration>', 'local backend: how often the lake folder is listed')
        .argParser(parseDurationOption)
        .default(5_000, '5 seconds'),
    )
    .option(
      '--existing',
      'local backend: also start dates already complete in the lake when the watcher starts (default: only what arrives)',
    )
    .action(async (opts: { quietPeriod: number; scanInterval: number; existing?: boolean }) => {
      const config = loadConfig();
      const aws = config.backend === 'aws' ? config.aws : undefined;
      let client: Client | undefined;
      const controller = new AbortController();
      const stop = () => {
        if (controller.signal.aborted) process.exit(130);
        controller.abort();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      const say = (line: string) => console.log(printable(line));
      const closers: (() => void)[] = [];
      try {
        let source: ArrivalSource;
        let list;
        if (aws) {
          const sqs = createSqsClient(aws);
          const clients = createAwsClients(aws);
          closers.push(
            () => sqs.destroy(),
            () => destroyAwsClients(clients),
          );
          let queueUrl: string;
          try {
            queueUrl = await arrivalsQueueUrl(sqs, aws);
            // Fails here, in one line, on a wrong URL, missing credentials or a missing permission.
            await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
          } catch (err) {
            throw new UserError(
              awsProblem(err, aws, true) ??
                `watch: the arrivals queue ${arrivalsQueueOf(aws)}: ${awsErrorName(err)}: ${(err as Error).message}`,
            );
          }
          source = new QueueSource(sqs, queueUrl, aws, say);
          list = bucketLister(clients.s3, aws);
        } else {
          new Lake(config.local.lakeDir).assertExists();
          list = lakeFolderLister(config.local.lakeDir);
          source = new FolderSource(config.local.lakeDir, list, opts.scanInterval);
        }
        // The source is checked first: a wrong queue or lake is named without a server to ask.
        client = await connectClient(config.temporal);
        say(
          `watching ${source.describe()}; a date starts once its three partitions have files and ${formatSeconds(opts.quietPeriod)} pass without new ones ` +
            `(task queue ${config.temporal.taskQueue}; Ctrl-C stops)`,
        );
        await watchArrivals({
          source,
          list,
          starter: temporalRunStarter(client, config.temporal.taskQueue),
          quietMs: opts.quietPeriod,
          includeExisting: Boolean(opts.existing),
          say,
          signal: controller.signal,
          isFatal: (err) => fatalLine(err, aws) !== undefined,
        });
        say('stopped watching');
      } catch (err) {
        const line = fatalLine(err, aws);
        if (line !== undefined && !(err instanceof UserError)) throw new UserError(line.replace(/^pipeline: /, ''));
        throw err;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        for (const close of closers) close();
        await client?.connection.close();
      }
    });
}
