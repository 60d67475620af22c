/**
 * The IAM policies in deploy/aws allow every AWS action the code sends: the worker's for the
 * activities, the setup policy for `pipeline aws setup`. A new call without a policy line fails here.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '../../src/activities/aws');
const DEPLOY = path.resolve(__dirname, '../../deploy/aws');

const SERVICE: Record<string, string> = { s3: 's3', glue: 'glue', athena: 'athena', 'redshift-data': 'redshift-data', sns: 'sns', 'cloudwatch-logs': 'logs' };
/** S3 API operations whose IAM action has another name. */
const S3_ACTION: Record<string, string> = { ListObjectsV2: 'ListBucket', HeadBucket: 'ListBucket', HeadObject: 'GetObject' };

function actionsSentBy(files: string[]): Set<string> {
  const actions = new Set<string>();
  for (const file of files) {
    const text = readFileSync(path.join(SRC, file), 'utf8');
    for (const imp of text.matchAll(/import \{([^}]+)\} from '@aws-sdk\/client-([a-z-]+)'/g)) {
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

function allowed(policyFile: string): Set<string> {
  const policy = JSON.parse(readFileSync(path.join(DEPLOY, policyFile), 'utf8')) as { Statement: { Effect: string; Action: string[] }[] };
  return new Set(policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => s.Action));
}

describe('deploy/aws IAM policies', () => {
  const files = readdirSync(SRC).filter((f) => f.endsWith('.ts'));

  it('let the worker make every call the activities make', () => {
    const sent = actionsSentBy(files.filter((f) => f !== 'setup.ts'));
    expect(sent.size).toBeGreaterThan(15);
    const missing = [...sent].filter((a) => !allowed('worker-iam-policy.json').has(a));
    expect(missing).toEqual([]);
  });

  it('let `pipeline aws setup` make every call it makes', () => {
    const sent = actionsSentBy(['setup.ts']);
    const missing = [...sent].filter((a) => !allowed('setup-iam-policy.json').has(a));
    expect(missing).toEqual([]);
  });

  it('grant no wildcard actions', () => {
    for (const f of ['worker-iam-policy.json', 'setup-iam-policy.json']) {
      expect([...allowed(f)].filter((a) => a.includes('*'))).toEqual([]);
    }
  });
});
