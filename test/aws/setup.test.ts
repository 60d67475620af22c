/**
 * `pipeline aws setup` against a real moto server: the plan lists what is missing, --apply creates it,
 * and a second --apply changes nothing.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { GetCrawlerCommand, GetJobCommand } from '@aws-sdk/client-glue';
import { GetWorkGroupCommand } from '@aws-sdk/client-athena';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/activities/aws/clients';
import { createAwsClients, destroyAwsClients } from '../../src/activities/aws/clients';
import { runSetup } from '../../src/activities/aws/setup';
import type { MotoServer } from '../support/moto';
import { motoAwsConfig, startMoto, useMotoCredentials } from '../support/moto';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

let moto: MotoServer;
let clients: AwsClients;
let tmp: string;

beforeAll(async () => {
  useMotoCredentials();
  moto = await startMoto();
  clients = createAwsClients(motoAwsConfig(moto.url));
  tmp = mkdtempSync(path.join(tmpdir(), 'aws-setup-'));
});

afterAll(async () => {
  if (clients) destroyAwsClients(clients);
  await moto?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function env(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_REGION: 'eu-west-1',
    PIPELINE_AWS_ENDPOINT_URL: moto.url,
    PIPELINE_S3_BUCKET: 'pipeline-setup-lake',
    PIPELINE_S3_PREFIX: 'shop',
    PIPELINE_GLUE_ROLE_ARN: 'arn:aws:iam::123456789012:role/pipeline-glue',
    PIPELINE_ATHENA_WORKGROUP: 'ecommerce-pipeline',
    PIPELINE_REDSHIFT_WORKGROUP: 'pipeline',
  };
}

const pipeline = (...args: string[]) => run(path.join(ROOT, 'bin/pipeline'), args, { cwd: ROOT, env: env(), timeout: 120_000 });

describe('pipeline aws setup', () => {
  it('plans, applies, and applies again without changes', async () => {
    const plan = await pipeline('aws', 'setup', '--skip-warehouse');
    expect(plan.stdout).toContain('missing  S3 bucket pipeline-setup-lake');
    expect(plan.stdout).toContain('missing  Glue crawler ecommerce-raw-crawler - would create: over s3://pipeline-setup-lake/shop/raw/');
    expect(plan.stdout).toMatch(/\d+ change\(s\) to make: run again with --apply/);

    const first = await pipeline('aws', 'setup', '--apply', '--skip-warehouse');
    expect(first.stdout).toContain('created  S3 bucket pipeline-setup-lake');
    expect(first.stdout).toContain('created  Glue database ecommerce_raw');
    expect(first.stdout).toContain('created  Glue crawler ecommerce-raw-crawler');
    expect(first.stdout).toContain('created  Glue job ecommerce-etl-job');
    expect(first.stdout).toContain('created  Athena workgroup ecommerce-pipeline');
    expect(first.stdout).toContain('skipped  Redshift schema analytics');

    const second = await pipeline('aws', 'setup', '--apply', '--skip-warehouse');
    expect(second.stdout).not.toMatch(/created|updated/);
    expect(second.stdout.match(/ ok {7}/g)?.length).toBeGreaterThanOrEqual(9);

    const recheck = await pipeline('aws', 'setup', '--skip-warehouse');
    expect(recheck.stdout).toContain('nothing to change');

    const c = createAwsClients({ ...motoAwsConfig(moto.url), region: 'eu-west-1' });
    try {
      const crawler = await c.glue.send(new GetCrawlerCommand({ Name: 'ecommerce-raw-crawler' }));
      expect(crawler.Crawler?.Targets?.S3Targets?.[0]).toMatchObject({ Path: 's3://pipeline-setup-lake/shop/raw/', Exclusions: ['**.xlsx'] });
      expect(JSON.parse(crawler.Crawler?.Configuration ?? '{}')).toMatchObject({ Grouping: { TableLevelConfiguration: 4 } });
      const job = await c.glue.send(new GetJobCommand({ JobName: 'ecommerce-etl-job' }));
      expect(job.Job?.Command?.ScriptLocation).toBe('s3://pipeline-setup-lake/shop/scripts/ecommerce_etl_job.py');
      expect(job.Job?.ExecutionProperty?.MaxConcurrentRuns).toBe(1);
      const script = await c.s3.send(new GetObjectCommand({ Bucket: 'pipeline-setup-lake', Key: 'shop/scripts/ecommerce_etl_job.py' }));
      expect(await script.Body?.transformToString()).toContain('--run_date');
      const wg = await c.athena.send(new GetWorkGroupCommand({ WorkGroup: 'ecommerce-pipeline' }));
      expect(wg.WorkGroup?.Configuration?.ResultConfiguration?.OutputLocation).toBe('s3://pipeline-setup-lake/shop/athena-results/');
    } finally {
      destroyAwsClients(c);
    }
  });

  it('uploads a changed job script again and skips the job when the script is absent', async () => {
    const config = motoAwsConfig(moto.url, { bucket: 'pipeline-setup-script' });
    const script = path.join(tmp, 'job.py');
    writeFileSync(script, 'print("v1")\n');
    await runSetup(config, clients, { apply: true, skipWarehouse: true, scriptPath: script });
    writeFileSync(script, 'print("v2")\n');
    const plan = await runSetup(config, clients, { apply: false, skipWarehouse: true, scriptPath: script });
    expect(plan.find((s) => s.resource.startsWith('Glue job script'))?.state).toBe('outdated');
    const applied = await runSetup(config, clients, { apply: true, skipWarehouse: true, scriptPath: script });
    expect(applied.find((s) => s.resource.startsWith('Glue job script'))?.state).toBe('updated');

    const absent = await runSetup(config, clients, { apply: true, skipWarehouse: true, scriptPath: path.join(tmp, 'missing.py') });
    expect(absent.find((s) => s.resource.startsWith('Glue job script'))).toMatchObject({ state: 'skipped', detail: expect.stringContaining('WARNING') });
  });

  it('names the missing setting when the Glue role is not configured', async () => {
    const config = motoAwsConfig(moto.url, { bucket: 'pipeline-setup-norole', glueCrawler: 'other-crawler', glueRoleArn: undefined });
    await expect(runSetup(config, clients, { apply: true, skipWarehouse: true })).rejects.toThrow(/PIPELINE_GLUE_ROLE_ARN/);
  });
});
