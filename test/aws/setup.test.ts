/**
 * `pipeline aws setup` against a real moto server: the plan lists what is missing, --apply creates it,
 * and a second --apply changes nothing; the arrivals queue it creates receives the bucket's raw/ notifications.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateJobCommand, GetCrawlerCommand, GetJobCommand } from '@aws-sdk/client-glue';
import { GetWorkGroupCommand } from '@aws-sdk/client-athena';
import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import type { Field } from '@aws-sdk/client-redshift-data';
import {
  GetBucketNotificationConfigurationCommand,
  GetObjectCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/activities/aws/clients';
import { createAwsClients, destroyAwsClients } from '../../src/activities/aws/clients';
import { statementsFor } from '../../src/activities/aws/load';
import type { SetupStep } from '../../src/client/aws-setup/setup';
import { GLUE_SCRIPT, GLUE_VERSION, WAREHOUSE_CATALOG_SQL, ddlTables, findGlueScript, runSetup } from '../../src/client/aws-setup/setup';
import { ARRIVALS_NOTIFICATION_ID, arrivalsQueuePolicy, policyLetsBucketSend } from '../../src/client/aws-setup/arrivals-queue';
import { parseS3Notification } from '../../src/arrivals/s3-events';
import { createSqsClient } from '../../src/arrivals/sqs-queue';
import { MODEL_VERSION, rulesArtifact, rulesFileName } from '../../src/rules/artifact';
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
    expect(first.stdout).toContain(
      `created  Glue job rules s3://pipeline-setup-lake/shop/scripts/${rulesFileName()} - rules model ${MODEL_VERSION}`,
    );
    expect(first.stdout).toContain('created  Athena workgroup ecommerce-pipeline');
    expect(first.stdout).toContain('created  SQS queue ecommerce-raw-arrivals');
    expect(first.stdout).toContain(
      'created  S3 notification pipeline-raw-arrivals (s3://pipeline-setup-lake/shop/raw/ -> ecommerce-raw-arrivals) - sends s3:ObjectCreated:* under shop/raw/',
    );
    expect(first.stdout).toContain('skipped  Redshift schema analytics');

    const second = await pipeline('aws', 'setup', '--apply', '--skip-warehouse');
    expect(second.stdout).not.toMatch(/created|updated|outdated/);
    expect(second.stdout).toContain('ok       SQS queue ecommerce-raw-arrivals');
    expect(second.stdout).toContain('ok       S3 notification pipeline-raw-arrivals');
    expect(second.stdout.match(/ ok {7}/g)?.length).toBeGreaterThanOrEqual(10);

    const recheck = await pipeline('aws', 'setup', '--skip-warehouse');
    expect(recheck.stdout).toContain('nothing to change');

    const c = createAwsClients({ ...motoAwsConfig(moto.url), region: 'eu-west-1' });
    try {
      const crawler = await c.glue.send(new GetCrawlerCommand({ Name: 'ecommerce-raw-crawler' }));
      expect(crawler.Crawler?.Targets?.S3Targets?.[0]).toMatchObject({
        Path: 's3://pipeline-setup-lake/shop/raw/',
        Exclusions: ['**.xlsx'],
      });
      expect(JSON.parse(crawler.Crawler?.Configuration ?? '{}')).toMatchObject({ Grouping: { TableLevelConfiguration: 4 } });
      const job = await c.glue.send(new GetJobCommand({ JobName: 'ecommerce-etl-job' }));
      expect(job.Job?.Command?.ScriptLocation).toBe('s3://pipeline-setup-lake/shop/scripts/ecommerce_etl_job.py');
      expect(job.Job?.ExecutionProperty?.MaxConcurrentRuns).toBe(1);
      // Glue 5.0 is Spark 3.5.4 on Python 3.11, the pyspark glue/tests runs the job on.
      expect(job.Job?.GlueVersion).toBe('5.0');
      const script = await c.s3.send(new GetObjectCommand({ Bucket: 'pipeline-setup-lake', Key: 'shop/scripts/ecommerce_etl_job.py' }));
      expect(await script.Body?.transformToString()).toContain('--run_date');
      // The rules beside the script: this release's Spark rendering, under its versioned name.
      const rules = await c.s3.send(
        new GetObjectCommand({ Bucket: 'pipeline-setup-lake', Key: `shop/scripts/rules-${MODEL_VERSION}.spark.json` }),
      );
      expect(rules.ContentType).toBe('application/json');
      expect(JSON.parse((await rules.Body?.transformToString()) ?? '{}')).toEqual(rulesArtifact('spark'));
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
    expect(plan.find((s) => s.resource.startsWith('Glue job script'))).toMatchObject({ state: 'outdated', applyUpdates: true });
    const applied = await runSetup(config, clients, { apply: true, skipWarehouse: true, scriptPath: script });
    expect(applied.find((s) => s.resource.startsWith('Glue job script'))?.state).toBe('updated');

    const absent = await runSetup(config, clients, { apply: true, skipWarehouse: true, scriptPath: path.join(tmp, 'missing.py') });
    expect(absent.find((s) => s.resource.startsWith('Glue job script'))).toMatchObject({
      state: 'skipped',
      detail: expect.stringContaining('WARNING'),
    });
  });

  it("uploads the rules again when the object differs from this release's rendering", async () => {
    const config = motoAwsConfig(moto.url, { bucket: 'pipeline-setup-rules', glueCrawler: 'crawler-rules', glueJob: 'etl-rules' });
    const key = `lake/scripts/${rulesFileName()}`;
    const rulesStep = (steps: SetupStep[]) => steps.find((s) => s.resource === `Glue job rules s3://pipeline-setup-rules/${key}`);
    expect(rulesStep(await runSetup(config, clients, { apply: false, skipWarehouse: true }))).toMatchObject({ state: 'missing' });
    expect(rulesStep(await runSetup(config, clients, { apply: true, skipWarehouse: true }))).toMatchObject({ state: 'created' });
    expect(rulesStep(await runSetup(config, clients, { apply: true, skipWarehouse: true }))).toMatchObject({ state: 'exists' });

    // Someone's hand-edited copy (or a broken upload) under the same name.
    await clients.s3.send(new PutObjectCommand({ Bucket: 'pipeline-setup-rules', Key: key, Body: '{"model":"edited"}' }));
    const plan = await runSetup(config, clients, { apply: false, skipWarehouse: true });
    expect(rulesStep(plan)).toMatchObject({
      state: 'outdated',
      applyUpdates: true,
      detail: expect.stringContaining(`differs from rules model ${MODEL_VERSION}`),
    });
    expect(rulesStep(await runSetup(config, clients, { apply: true, skipWarehouse: true }))).toMatchObject({ state: 'updated' });
    const body = await clients.s3.send(new GetObjectCommand({ Bucket: 'pipeline-setup-rules', Key: key }));
    expect(JSON.parse((await body.Body?.transformToString()) ?? '{}')).toMatchObject({ model: MODEL_VERSION, dialect: 'spark' });
  });

  it('finds the job script from src/ and from a build in dist/ (the image has /app/dist/src and /app/glue)', () => {
    expect(GLUE_SCRIPT).toBe(path.join(ROOT, 'glue', 'ecommerce_etl_job.py'));
    const image = mkdtempSync(path.join(tmpdir(), 'image-'));
    try {
      const compiled = path.join(image, 'dist', 'src', 'client', 'aws-setup');
      mkdirSync(compiled, { recursive: true });
      mkdirSync(path.join(image, 'glue'));
      writeFileSync(path.join(image, 'glue', 'ecommerce_etl_job.py'), '# job\n');
      expect(findGlueScript(compiled)).toBe(path.join(image, 'glue', 'ecommerce_etl_job.py'));
    } finally {
      rmSync(image, { recursive: true, force: true });
    }
  });

  it('reports a job on another Glue version (or script) as outdated and leaves it as it is', async () => {
    expect(GLUE_VERSION).toBe('5.0');
    const config = motoAwsConfig(moto.url, { bucket: 'pipeline-setup-glue4', glueCrawler: 'crawler-glue4', glueJob: 'etl-on-glue-4' });
    const scriptUri = 's3://pipeline-setup-glue4/lake/scripts/ecommerce_etl_job.py';
    // A job an earlier release of setup created: Glue 4.0 (Spark 3.3), which the job is not tested on.
    await clients.glue.send(
      new CreateJobCommand({
        Name: 'etl-on-glue-4',
        Role: 'arn:aws:iam::123456789012:role/pipeline-glue',
        Command: { Name: 'glueetl', ScriptLocation: scriptUri },
        GlueVersion: '4.0',
      }),
    );
    const jobStep = (steps: SetupStep[]) => steps.find((s) => s.resource === 'Glue job etl-on-glue-4');

    const plan = await runSetup(config, clients, { apply: false, skipWarehouse: true });
    expect(jobStep(plan)).toMatchObject({
      state: 'outdated',
      detail: expect.stringContaining('runs Glue 4.0, expected 5.0 (Spark 3.5, Python 3.11)'),
    });
    // Not counted as a change --apply would make.
    expect(jobStep(plan)?.applyUpdates).toBeUndefined();
    const applied = await runSetup(config, clients, { apply: true, skipWarehouse: true });
    expect(jobStep(applied)?.state).toBe('outdated');
    expect((await clients.glue.send(new GetJobCommand({ JobName: 'etl-on-glue-4' }))).Job?.GlueVersion).toBe('4.0');

    // A job that runs another script is just as outdated.
    await clients.glue.send(
      new CreateJobCommand({
        Name: 'etl-other-script',
        Role: 'arn:aws:iam::123456789012:role/pipeline-glue',
        Command: { Name: 'glueetl', ScriptLocation: 's3://elsewhere/job.py' },
        GlueVersion: '5.0',
      }),
    );
    const other = await runSetup({ ...config, glueJob: 'etl-other-script' }, clients, { apply: false, skipWarehouse: true });
    expect(other.find((s) => s.resource === 'Glue job etl-other-script')).toMatchObject({
      state: 'outdated',
      detail: expect.stringContaining(`runs s3://elsewhere/job.py, expected ${scriptUri}`),
    });
  });

  it('names the missing setting when the Glue role is not configured', async () => {
    const config = motoAwsConfig(moto.url, { bucket: 'pipeline-setup-norole', glueCrawler: 'other-crawler', glueRoleArn: undefined });
    await expect(runSetup(config, clients, { apply: true, skipWarehouse: true })).rejects.toThrow(/PIPELINE_GLUE_ROLE_ARN/);
  });
});

describe('pipeline aws setup: the arrivals queue and the raw/ notification', () => {
  const config = motoAwsConfig('', { bucket: 'pipeline-setup-arrivals', arrivalsQueue: 'arrivals-setup-test' });
  const cfg = () => ({ ...config, endpointUrl: moto.url });
  const sqs = () => createSqsClient(cfg());
  const arrivalSteps = (steps: SetupStep[]) =>
    steps
      .filter((s) => s.resource.startsWith('SQS queue') || s.resource.startsWith('S3 notification'))
      .map((s) => `${s.state} ${s.resource}`);

  it('creates the queue and the notification once, keeps the bucket notifications of others, and the queue receives raw/ arrivals', async () => {
    const q = sqs();
    try {
      // Someone else's notification on the bucket, which setup's write must keep.
      await runSetup(cfg(), clients, { apply: true, skipWarehouse: true, sqs: q });
      const other = await q.send(new CreateQueueCommand({ QueueName: 'someone-elses-queue' }));
      const otherArn = (await q.send(new GetQueueAttributesCommand({ QueueUrl: other.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!
        .QueueArn!;
      const before = await clients.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'pipeline-setup-arrivals' }));
      expect(before.QueueConfigurations?.map((c) => c.Id)).toEqual([ARRIVALS_NOTIFICATION_ID]);
      await clients.s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: 'pipeline-setup-arrivals',
          NotificationConfiguration: {
            QueueConfigurations: [
              {
                Id: 'exports',
                QueueArn: otherArn,
                Events: ['s3:ObjectCreated:*'],
                Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'exports/' }] } },
              },
            ],
          },
        }),
      );
      // Our notification is gone now: the plan says so, apply puts it back beside the other one.
      expect(arrivalSteps(await runSetup(cfg(), clients, { apply: false, skipWarehouse: true, sqs: q }))).toEqual([
        'exists SQS queue arrivals-setup-test',
        'missing S3 notification pipeline-raw-arrivals (s3://pipeline-setup-arrivals/lake/raw/ -> arrivals-setup-test)',
      ]);
      expect(arrivalSteps(await runSetup(cfg(), clients, { apply: true, skipWarehouse: true, sqs: q }))).toEqual([
        'exists SQS queue arrivals-setup-test',
        'created S3 notification pipeline-raw-arrivals (s3://pipeline-setup-arrivals/lake/raw/ -> arrivals-setup-test)',
      ]);
      expect(arrivalSteps(await runSetup(cfg(), clients, { apply: true, skipWarehouse: true, sqs: q }))).toEqual([
        'exists SQS queue arrivals-setup-test',
        'exists S3 notification pipeline-raw-arrivals (s3://pipeline-setup-arrivals/lake/raw/ -> arrivals-setup-test)',
      ]);
      const after = await clients.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'pipeline-setup-arrivals' }));
      expect(after.QueueConfigurations?.map((c) => c.Id).sort()).toEqual(['exports', ARRIVALS_NOTIFICATION_ID]);

      const url = (await q.send(new GetQueueUrlCommand({ QueueName: 'arrivals-setup-test' }))).QueueUrl!;
      const attrs = (await q.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes!;
      expect(attrs.VisibilityTimeout).toBe('120');
      expect(attrs.MessageRetentionPeriod).toBe(String(14 * 24 * 3600));
      expect(JSON.parse(attrs.Policy!)).toEqual(JSON.parse(arrivalsQueuePolicy(attrs.QueueArn!, 'pipeline-setup-arrivals')));
      expect(policyLetsBucketSend(attrs.Policy, attrs.QueueArn!, 'pipeline-setup-arrivals')).toBe(true);
      expect(policyLetsBucketSend(attrs.Policy, attrs.QueueArn!, 'another-bucket')).toBe(false);

      // Drain what setup's writes sent (moto's s3:TestEvent), then an arrival under raw/ and one elsewhere.
      await q.send(new PurgeQueueCommand({ QueueUrl: url }));
      await clients.s3.send(
        new PutObjectCommand({ Bucket: 'pipeline-setup-arrivals', Key: 'lake/raw/orders/2025-10-27/orders.csv', Body: 'x' }),
      );
      await clients.s3.send(new PutObjectCommand({ Bucket: 'pipeline-setup-arrivals', Key: 'lake/processed/x.parquet', Body: 'x' }));
      const got = await q.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }));
      const keys = (got.Messages ?? []).flatMap((m) => {
        const n = parseS3Notification(m.Body);
        return n.kind === 'objects' ? n.objects.map((o) => o.key) : [];
      });
      expect(keys).toEqual(['lake/raw/orders/2025-10-27/orders.csv']);
    } finally {
      q.destroy();
    }
  });

  it('reports a queue whose policy does not let the bucket send as outdated, and leaves it as it is', async () => {
    const q = sqs();
    try {
      const c = { ...cfg(), bucket: 'pipeline-setup-arrivals-2', arrivalsQueue: 'arrivals-no-policy' };
      await q.send(new CreateQueueCommand({ QueueName: 'arrivals-no-policy' }));
      const steps = await runSetup(c, clients, { apply: true, skipWarehouse: true, sqs: q });
      expect(steps.find((s) => s.resource === 'SQS queue arrivals-no-policy')).toMatchObject({
        state: 'outdated',
        detail: expect.stringContaining('its policy does not let s3://pipeline-setup-arrivals-2 send to it'),
      });
      const url = (await q.send(new GetQueueUrlCommand({ QueueName: 'arrivals-no-policy' }))).QueueUrl!;
      const attrs = await q.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['Policy'] }));
      expect(attrs.Attributes?.Policy).toBeUndefined();
    } finally {
      q.destroy();
    }
  });
});

describe('pipeline aws setup: the Redshift step of a plan', () => {
  // S3, Glue and Athena on moto; the Data API mocked (moto's does not serve the JS SDK).
  const redshiftData = new RedshiftDataClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const mock = mockClient(redshiftData);
  const config = () => motoAwsConfig(moto.url, { bucket: 'pipeline-setup-plan' });
  const plan = async () => {
    const steps = await runSetup(config(), { ...clients, redshiftData }, { apply: false, warehouseTimeoutMs: 0 });
    return steps.find((s) => s.resource.startsWith('Redshift schema'))!;
  };
  const ddl = statementsFor(motoAwsConfig('http://unused'), 'ddl');
  const tables = ddlTables(ddl, 'analytics');
  const record = (kind: string, name: string): Field[] => [{ stringValue: kind }, { stringValue: name }];

  beforeEach(() => {
    mock.reset();
    mock.on(ExecuteStatementCommand).resolves({ Id: 'stmt-plan' });
    mock.on(DescribeStatementCommand).resolves({ Id: 'stmt-plan', Status: 'FINISHED' });
  });

  it('knows every table ddl.sql creates', () => {
    // 13 before the marts of issue 15 (which add tables); the plan's wording below counts whatever ddl.sql holds.
    expect(tables.length).toBeGreaterThanOrEqual(13);
    expect(tables).toEqual(expect.arrayContaining(['dim_customers', 'fact_orders', 'load_audit', 'stg_orders', 'stg_affected_dates']));
  });

  it('reads the catalog with one read-only, parameterised query and never runs DDL', async () => {
    mock.on(GetStatementResultCommand).resolves({ Records: [] });
    const step = await plan();
    expect(step).toMatchObject({ resource: 'Redshift schema analytics (Redshift Serverless workgroup pipeline)', state: 'missing' });
    expect(step.detail).toBe(`would run ddl.sql (${ddl.length} statements, all IF NOT EXISTS): schema and ${tables.length} tables`);
    const sent = mock.commandCalls(ExecuteStatementCommand)[0]!.args[0].input;
    expect(sent).toMatchObject({
      WorkgroupName: 'pipeline',
      Database: 'dev',
      Sql: WAREHOUSE_CATALOG_SQL,
      Parameters: [{ name: 'schema', value: 'analytics' }],
    });
    expect(sent.ClientToken).toBeUndefined();
    expect(mock.commandCalls(BatchExecuteStatementCommand)).toHaveLength(0);
  });

  it('reports the schema as it is once it exists, reading every page of the result', async () => {
    mock
      .on(GetStatementResultCommand, { Id: 'stmt-plan', NextToken: undefined })
      .resolves({ Records: [record('schema', 'analytics'), ...tables.slice(0, 6).map((t) => record('table', t))], NextToken: 'p2' })
      .on(GetStatementResultCommand, { Id: 'stmt-plan', NextToken: 'p2' })
      .resolves({ Records: [...tables.slice(6).map((t) => record('table', t)), record('table', 'someone_elses_table')] });
    expect(await plan()).toMatchObject({ state: 'exists', detail: `schema and its ${tables.length} tables` });
    expect(mock.commandCalls(GetStatementResultCommand)).toHaveLength(2);
  });

  it('names the tables a newer ddl.sql would add to an existing schema', async () => {
    const present = tables.filter((t) => !['stg_affected_dates', 'quality_reports'].includes(t));
    mock.on(GetStatementResultCommand).resolves({ Records: [record('schema', 'analytics'), ...present.map((t) => record('table', t))] });
    const step = await plan();
    expect(step.state).toBe('missing');
    expect(step.detail).toMatch(
      /^schema exists; would run ddl\.sql \(\d+ statements, all IF NOT EXISTS\) to create quality_reports, stg_affected_dates$/,
    );
  });

  it('says it could not tell, and why, when the catalog cannot be read', async () => {
    mock
      .on(DescribeStatementCommand)
      .resolves({ Id: 'stmt-plan', Status: 'FAILED', Error: 'ERROR: permission denied for relation pg_namespace' });
    expect(await plan()).toMatchObject({
      state: 'unknown',
      detail: expect.stringMatching(
        /^could not read the warehouse catalog \(.*permission denied for relation pg_namespace\); --apply would run ddl\.sql/,
      ),
    });

    mock.on(DescribeStatementCommand).resolves({ Id: 'stmt-plan', Status: 'STARTED' });
    expect(await plan()).toMatchObject({ state: 'unknown', detail: expect.stringContaining('(catalog query) still STARTED after 0 s') });

    mock.on(ExecuteStatementCommand).rejects(
      Object.assign(new Error('User is not authorized to perform redshift-serverless:GetCredentials'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    expect(await plan()).toMatchObject({ state: 'unknown', detail: expect.stringContaining('AccessDeniedException') });
  });
});
