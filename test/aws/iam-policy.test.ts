/**
 * The IAM policies in deploy/aws allow every AWS action the code sends: the worker's for the
 * activities (src/activities/aws), the setup policy for `pipeline aws setup` (src/client/aws-setup).
 * A new call without a policy line fails here.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** The aws backend's modules: what the worker runs, with the worker policy. */
const WORKER_SRC = path.resolve(__dirname, '../../src/activities/aws');
/** The modules of `pipeline aws setup`: run with the setup policy, never by the worker. */
const SETUP_SRC = path.resolve(__dirname, '../../src/client/aws-setup');
const DEPLOY = path.resolve(__dirname, '../../deploy/aws');

const SERVICE: Record<string, string> = {
  s3: 's3',
  glue: 'glue',
  athena: 'athena',
  'redshift-data': 'redshift-data',
  sns: 'sns',
  'cloudwatch-logs': 'logs',
};
/** S3 API operations whose IAM action has another name. */
const S3_ACTION: Record<string, string> = { ListObjectsV2: 'ListBucket', HeadBucket: 'ListBucket', HeadObject: 'GetObject' };

function actionsSentBy(files: string[]): Set<string> {
  const actions = new Set<string>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const imp of text.matchAll(/import \{([^}]+)\} from '@aws-sdk\/client-([a-z0-9-]+)'/g)) {
      const service = SERVICE[imp[2]!];
      if (!service) continue;
      for (const name of imp[1]!.split(',').map((s) => s.trim())) {
        const op = /^(\w+)Command$/.exec(name)?.[1];
        if (op) actions.add(`${service}:${service === 's3' ? (S3_ACTION[op] ?? op) : op}`);
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

  it('put an s3:prefix condition only on actions whose requests carry that key', () => {
    for (const f of ['worker-iam-policy.json', 'setup-iam-policy.json']) {
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
    for (const f of ['worker-iam-policy.json', 'setup-iam-policy.json']) {
      expect([...allowed(f)].filter((a) => a.includes('*'))).toEqual([]);
    }
  });
});
