/**
 * The IAM policies in deploy/aws allow every AWS action the code sends: the worker's for the
 * activities (src/activities/aws), the setup policy for `pipeline aws setup` (src/client/aws-setup),
 * the watch policy for `pipeline watch` (src/arrivals). A new call without a policy line fails here.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** The aws backend's modules: what the worker runs, with the worker policy. */
const WORKER_SRC = path.resolve(__dirname, '../../src/activities/aws');
/** The modules of `pipeline aws setup`: run with the setup policy, never by the worker. */
const SETUP_SRC = path.resolve(__dirname, '../../src/client/aws-setup');
/** `pipeline watch`: the arrivals queue, and the raw partitions listed with the sensor's listing (src/activities/aws/s3.ts). */
const WATCH_SRC = [path.resolve(__dirname, '../../src/arrivals'), path.resolve(__dirname, '../../src/client/commands/watch.ts')];
const DEPLOY = path.resolve(__dirname, '../../deploy/aws');
const POLICIES = ['worker-iam-policy.json', 'setup-iam-policy.json', 'watch-iam-policy.json'];

const SERVICE: Record<string, string> = {
  s3: 's3',
  glue: 'glue',
  athena: 'athena',
  'redshift-data': 'redshift-data',
  sns: 'sns',
  'cloudwatch-logs': 'logs',
  sqs: 'sqs',
};
/** S3 API operations whose IAM action has another name. */
const S3_ACTION: Record<string, string> = {
  ListObjectsV2: 'ListBucket',
  HeadBucket: 'ListBucket',
  HeadObject: 'GetObject',
  GetBucketNotificationConfiguration: 'GetBucketNotification',
  PutBucketNotificationConfiguration: 'PutBucketNotification',
};
/** SQS batch operations are authorised by the action of one message. */
const SQS_ACTION: Record<string, string> = {
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
  SendMessageBatch: 'SendMessage',
};
const ACTION_NAMES: Record<string, Record<string, string>> = { s3: S3_ACTION, sqs: SQS_ACTION };

function actionsSentBy(files: string[]): Set<string> {
  const actions = new Set<string>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const imp of text.matchAll(/import \{([^}]+)\} from '@aws-sdk\/client-([a-z0-9-]+)'/g)) {
      const service = SERVICE[imp[2]!];
      if (!service) continue;
      for (const name of imp[1]!.split(',').map((s) => s.trim())) {
        const op = /^(\w+)Command$/.exec(name)?.[1];
        if (op) actions.add(`${service}:${ACTION_NAMES[service]?.[op] ?? op}`);
        if (name === 'paginateListObjectsV2') actions.add('s3:ListBucket');
      }
    }
  }
  return actions;
}

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string[];
  Condition?: Record<string, Record<string, unknown>>;
}

function statements(policyFile: string): Statement[] {
  return (JSON.parse(readFileSync(path.join(DEPLOY, policyFile), 'utf8')) as { Statement: Statement[] }).Statement;
}

function allowed(policyFile: string): Set<string> {
  return new Set(
    statements(policyFile)
      .filter((s) => s.Effect === 'Allow')
      .flatMap((s) => s.Action),
  );
}

/**
 * The only S3 actions whose requests carry the s3:prefix key (Service Authorization Reference). Any
 * other action in a statement conditioned on s3:prefix is never allowed: the key is absent, so a
 * StringLike/StringEquals condition on it is false (GetBucketLocation, which Athena calls, was).
 */
const ACTIONS_WITH_S3_PREFIX = new Set(['s3:ListBucket', 's3:ListBucketVersions']);

const conditionKeys = (s: Statement) => Object.values(s.Condition ?? {}).flatMap((byKey) => Object.keys(byKey).map((k) => k.toLowerCase()));

const tsFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f));

describe('deploy/aws IAM policies', () => {
  it('let the worker make every call the activities make', () => {
    const sent = actionsSentBy(tsFiles(WORKER_SRC));
    expect(sent.size).toBeGreaterThan(15);
    const missing = [...sent].filter((a) => !allowed('worker-iam-policy.json').has(a));
    expect(missing).toEqual([]);
  });

  it('let `pipeline aws setup` make every call it makes', () => {
    const sent = actionsSentBy(tsFiles(SETUP_SRC));
    // The folder holds setup's own calls (bucket, Glue database, crawler, job, tables, workgroup, DDL).
    expect(sent.size).toBeGreaterThan(10);
    const missing = [...sent].filter((a) => !allowed('setup-iam-policy.json').has(a));
    expect(missing).toEqual([]);
  });

  it('let `pipeline watch` make every call it makes, and no more', () => {
    const files = WATCH_SRC.flatMap((p) => (p.endsWith('.ts') ? [p] : tsFiles(p)));
    // The partitions are listed by the sensor's own function (listRawObjects), which pages ListObjectsV2.
    const sent = new Set([...actionsSentBy(files), 's3:ListBucket']);
    expect(sent).toEqual(
      new Set([
        'sqs:GetQueueUrl',
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        's3:ListBucket',
      ]),
    );
    expect([...sent].filter((a) => !allowed('watch-iam-policy.json').has(a))).toEqual([]);
    expect([...allowed('watch-iam-policy.json')].filter((a) => !sent.has(a))).toEqual([]);
  });

  it('put an s3:prefix condition only on actions whose requests carry that key', () => {
    for (const f of POLICIES) {
      const wrong = statements(f)
        .filter((s) => conditionKeys(s).includes('s3:prefix'))
        .flatMap((s) => s.Action.filter((a) => !ACTIONS_WITH_S3_PREFIX.has(a)).map((a) => `${f} ${s.Sid ?? '(no Sid)'}: ${a}`));
      expect(wrong).toEqual([]);
    }
  });

  it("let Athena look up the lake bucket's region without a condition", () => {
    const unconditioned = statements('worker-iam-policy.json').filter((s) => s.Effect === 'Allow' && !s.Condition);
    expect(unconditioned.some((s) => s.Action.includes('s3:GetBucketLocation'))).toBe(true);
  });

  it('grant no wildcard actions', () => {
    for (const f of POLICIES) {
      expect([...allowed(f)].filter((a) => a.includes('*'))).toEqual([]);
    }
  });
});
