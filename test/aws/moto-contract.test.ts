/**
 * The aws activities against a real moto server over HTTP: S3 sensor, Glue crawler and job runs,
 * Athena results, SNS delivery to an SQS queue, and fast failure on missing resources.
 */
import ExcelJS from 'exceljs';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateCrawlerCommand, CreateDatabaseCommand, CreateJobCommand, CreateTableCommand, ListCrawlsCommand } from '@aws-sdk/client-glue';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AwsActivities } from '../../src/activities/aws';
import { createAwsActivities } from '../../src/activities/aws';
import type { AwsClients } from '../../src/activities/aws/clients';
import { createAwsClients, destroyAwsClients } from '../../src/activities/aws/clients';
import type { Notice, RunRef } from '../../src/activities/types';
import type { AwsConfig } from '../../src/config';
import { glueRunErrorTail, tailLogStream } from '../../src/activities/aws/logs';
import { unreadInPartitions } from '../../src/activities/aws/s3';
import { pageToRecords, toQualityResults } from '../../src/shared/results';
import type { MotoServer } from '../support/moto';
import { motoAwsConfig, startMoto, useMotoCredentials } from '../support/moto';

const run = (stage: RunRef['stage'], stageAttempt = 1): RunRef => ({
  runDate: '2025-10-27',
  workflowId: 'daily-2025-10-27',
  stage,
  stageAttempt,
});

let moto: MotoServer;
let config: AwsConfig;
let clients: AwsClients;
let acts: AwsActivities;

async function expectFailure(p: Promise<unknown>): Promise<ApplicationFailure | Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

beforeAll(async () => {
  useMotoCredentials();
  moto = await startMoto();
});

afterAll(async () => {
  await acts?.close();
  if (clients) destroyAwsClients(clients);
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  config = motoAwsConfig(moto.url);
  if (clients) destroyAwsClients(clients);
  clients = createAwsClients(config);
  acts = createAwsActivities(config, { webUiUrl: 'http://127.0.0.1:8233', clients });
  await clients.s3.send(new CreateBucketCommand({ Bucket: config.bucket }));
});

describe('listRawPartition (S3 sensor)', () => {
  it('sees files appear, keeps supported kinds in name order and reports the rest', async () => {
    const input = { run: run('awaitRawData'), entity: 'orders' as const };
    const before = await acts.listRawPartition(input);
    expect(before.objects).toEqual([]);

    const put = (key: string, body: string) =>
      clients.s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: `lake/${key}`, Body: body }));
    await put('raw/orders/2025-10-27/orders_b.csv', 'order_id\n1\n');
    await put('raw/orders/2025-10-27/orders_a.csv.gz', 'gz');
    await put('raw/orders/2025-10-27/more.xlsx', 'x');
    await put('raw/orders/2025-10-27/README.txt', 'notes');
    await put('raw/orders/2025-10-27/.orders_c.csv', 'order_id\n2\n');
    await put('raw/orders/2025-10-27/_SUCCESS', '');
    await put('raw/orders/2025-10-27/late/orders_d.csv', 'order_id\n3\n');
    await put('raw/orders/2025-10-27/', '');
    await put('raw/orders/2025-10-28/orders.csv', 'other day');
    await put('raw/customers/2025-10-27/customers.csv', 'other entity');

    const after = await acts.listRawPartition(input);
    expect(after.prefix).toBe('raw/orders/2025-10-27/');
    expect(after.objects.map((o) => o.key)).toEqual([
      'raw/orders/2025-10-27/more.xlsx',
      'raw/orders/2025-10-27/orders_a.csv.gz',
      'raw/orders/2025-10-27/orders_b.csv',
    ]);
    expect(after.objects[2]?.size).toBe(11);
    expect(after.ignored).toEqual([
      'raw/orders/2025-10-27/.orders_c.csv',
      'raw/orders/2025-10-27/README.txt',
      'raw/orders/2025-10-27/_SUCCESS',
      'raw/orders/2025-10-27/late/orders_d.csv',
    ]);
    // The catalog stage names each with its reason, nothing ignored silently.
    expect(await unreadInPartitions(clients.s3, config, '2025-10-27')).toEqual([
      { key: 'raw/orders/2025-10-27/.orders_c.csv', reason: "a hidden file (its name starts with '.')" },
      { key: 'raw/orders/2025-10-27/README.txt', reason: 'not a raw file kind (.csv, .csv.gz, .xlsx)' },
      { key: 'raw/orders/2025-10-27/_SUCCESS', reason: "a hidden file (its name starts with '_')" },
      { key: 'raw/orders/2025-10-27/late/orders_d.csv', reason: 'in a sub-folder: partitions are not read recursively' },
    ]);
  });

  it('fails fast naming the bucket when it does not exist', async () => {
    const other = createAwsActivities({ ...config, bucket: 'no-such-pipeline-bucket' }, { webUiUrl: '', clients });
    const err = await expectFailure(other.listRawPartition({ run: run('awaitRawData'), entity: 'orders' }));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).type).toBe('MissingResource');
    expect(err.message).toContain('no-such-pipeline-bucket');
  });
});

describe('Glue crawler', () => {
  beforeEach(async () => {
    await clients.glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: config.glueDatabase } }));
    await clients.glue.send(
      new CreateCrawlerCommand({
        Name: config.glueCrawler,
        Role: 'arn:aws:iam::123456789012:role/pipeline-glue',
        DatabaseName: config.glueDatabase,
        Targets: { S3Targets: [{ Path: `s3://${config.bucket}/lake/raw/` }] },
      }),
    );
    // A crawl advances one step per ListCrawls call, so the test decides when it finishes.
    await moto.setTransition('glue::crawl', { progression: 'manual', times: 1 });
  });

  it('goes RUNNING -> SUCCEEDED, waits for a crawl already running, and lists the crawled tables', async () => {
    const h = await acts.startCrawl({ run: run('catalog') });
    expect(h).toEqual({ crawlId: config.glueCrawler, alreadyRunning: false });
    const running = await acts.getCrawlState({ run: run('catalog'), crawlId: h.crawlId });
    expect(running.state).toBe('RUNNING');
    expect(running.consoleUrl).toContain('us-east-1.console.aws.amazon.com/glue');

    const again = await acts.startCrawl({ run: run('catalog') });
    expect(again.alreadyRunning).toBe(true);

    // What the crawler would have registered for the orders folder.
    await clients.glue.send(
      new CreateTableCommand({
        DatabaseName: config.glueDatabase,
        TableInput: {
          Name: 'orders',
          Parameters: { recordCount: '42', classification: 'csv' },
          StorageDescriptor: {
            Columns: [
              { Name: 'order_id', Type: 'bigint' },
              { Name: 'customer_id', Type: 'bigint' },
            ],
          },
          PartitionKeys: [{ Name: 'partition_0', Type: 'string' }],
        },
      }),
    );
    await clients.glue.send(new ListCrawlsCommand({ CrawlerName: config.glueCrawler }));

    const done = await acts.getCrawlState({ run: run('catalog'), crawlId: h.crawlId });
    expect(done.state).toBe('SUCCEEDED');
    expect(done.tables).toEqual([{ entity: 'orders', columns: ['order_id', 'customer_id'], rowCount: 42 }]);
  });

  it('stops the crawl on raw CSV files whose columns are in another order than the crawled table, naming each file', async () => {
    const put = (key: string, body: Buffer | string) =>
      clients.s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: `lake/raw/orders/2025-10-27/${key}`, Body: body }));
    await put('a.csv', 'order_id,customer_id,product_id\n1,2,3\n');
    await put('b.csv', '\uFEFF"Order_ID" , customer_id,product_id,extra\n4,5,6,x\n');
    await put('c.csv', 'customer_id,order_id,product_id\n5,4,6\n');
    await put('d.csv.gz', gzipSync('product_id,customer_id,order_id\n6,5,4\n'));
    // A workbook is converted, not crawled: it has no crawled columns to be out of order.
    await put('e.xlsx', Buffer.from(await new ExcelJS.Workbook().xlsx.writeBuffer()));
    await clients.glue.send(
      new CreateTableCommand({
        DatabaseName: config.glueDatabase,
        TableInput: {
          Name: 'orders',
          StorageDescriptor: { Columns: ['order_id', 'customer_id', 'product_id'].map((Name) => ({ Name, Type: 'bigint' })) },
          PartitionKeys: [{ Name: 'partition_0', Type: 'string' }],
        },
      }),
    );
    const h = await acts.startCrawl({ run: run('catalog') });
    await clients.glue.send(new ListCrawlsCommand({ CrawlerName: config.glueCrawler }));
    const st = await acts.getCrawlState({ run: run('catalog'), crawlId: h.crawlId });
    expect(st.state).toBe('FAILED');
    expect(st.retryable).toBeUndefined();
    expect(st.message).toContain(
      'raw/orders/2025-10-27/c.csv: column 1 is customer_id, the table has order_id; column 2 is order_id, the table has customer_id',
    );
    expect(st.message).toContain(
      'raw/orders/2025-10-27/d.csv.gz: column 1 is product_id, the table has order_id; column 3 is order_id, the table has product_id',
    );
    expect(st.message).not.toMatch(/a\.csv|b\.csv|e\.xlsx/);
    expect(st.message).toMatch(/rerun catalog, or skip catalog and validate/);
  });

  it('fails fast, non-retryable, naming a crawler that does not exist', async () => {
    const err = await expectFailure(acts.getCrawlState({ run: run('catalog'), crawlId: 'missing-crawler' }));
    expect((err as ApplicationFailure).type).toBe('MissingResource');
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect(err.message).toContain('Glue crawler missing-crawler');

    const other = createAwsActivities({ ...config, glueCrawler: 'missing-crawler' }, { webUiUrl: '', clients });
    const startErr = await expectFailure(other.startCrawl({ run: run('catalog') }));
    expect((startErr as ApplicationFailure).type).toBe('MissingResource');
  });
});

describe('Glue job runs', () => {
  beforeEach(async () => {
    await clients.glue.send(
      new CreateJobCommand({
        Name: config.glueJob,
        Role: 'arn:aws:iam::123456789012:role/pipeline-glue',
        Command: { Name: 'glueetl', ScriptLocation: `s3://${config.bucket}/lake/scripts/ecommerce_etl_job.py` },
        ExecutionProperty: { MaxConcurrentRuns: 1 },
        MaxCapacity: 2,
      }),
    );
    // STARTING -> RUNNING -> SUCCEEDED, one step per three reads (GetJobRun or GetJobRuns).
    await moto.setTransition('glue::job_run', { progression: 'manual', times: 3 });
  });

  it('starts once per stage attempt, reattaches on retry, and reports metrics after SUCCEEDED', async () => {
    const metrics = { 'orders.read': 10, 'orders.loaded': 8, 'orders.rejected': 1, 'orders.duplicates': 1, 'orders.revenue': 123.45 };
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: config.bucket,
        Key: 'lake/processed/_metrics/batch_date=2025-10-27/metrics.json',
        Body: JSON.stringify(metrics),
      }),
    );

    const first = await acts.startEtlRun({ run: run('transform') });
    const retried = await acts.startEtlRun({ run: run('transform') });
    expect(retried.etlRunId).toBe(first.etlRunId);

    const states: string[] = [];
    let status = await acts.getEtlRunState({ run: run('transform'), etlRunId: first.etlRunId });
    states.push(status.state);
    for (let i = 0; i < 5 && status.state === 'RUNNING'; i++) {
      status = await acts.getEtlRunState({ run: run('transform'), etlRunId: first.etlRunId });
      states.push(status.state);
    }
    expect(states[0]).toBe('RUNNING');
    expect(status.state).toBe('SUCCEEDED');
    expect(status.metrics).toMatchObject({ ...metrics, dpuSeconds: 2 * 123, durationMs: 123_000 });
    expect(status.consoleUrl).toContain(`/gluestudio/home?region=us-east-1#/job/${config.glueJob}/run/${first.etlRunId}`);
  });

  it("treats Glue's concurrent-runs limit as a wait (a busy handle), not a failure", async () => {
    await moto.setTransition('glue::job_run', { progression: 'manual', times: 1000 });
    await acts.startEtlRun({ run: run('transform') });
    // A rerun is new work; while the first run holds the job's only slot, Glue says wait.
    const rerun = await acts.startEtlRun({ run: run('transform', 2) });
    expect(rerun.etlRunId).toBe('');
    expect(rerun.busy).toContain(`Glue job ${config.glueJob} is at its concurrent-runs limit`);
  });

  it('passes the run date and lake paths to the job', async () => {
    const { etlRunId } = await acts.startEtlRun({ run: run('transform') });
    const { GetJobRunCommand } = await import('@aws-sdk/client-glue');
    const out = await clients.glue.send(new GetJobRunCommand({ JobName: config.glueJob, RunId: etlRunId }));
    expect(out.JobRun?.Arguments).toMatchObject({
      '--run_date': '2025-10-27',
      '--raw_path': `s3://${config.bucket}/lake`,
      '--processed_path': `s3://${config.bucket}/lake/processed`,
      '--pipeline_run_key': 'daily-2025-10-27/transform/1/etl',
    });
  });

  it('fails fast, non-retryable, naming a job that does not exist', async () => {
    const other = createAwsActivities({ ...config, glueJob: 'missing-job' }, { webUiUrl: '', clients });
    const err = await expectFailure(other.startEtlRun({ run: run('transform') }));
    expect((err as ApplicationFailure).type).toBe('MissingResource');
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect(err.message).toContain('Glue job missing-job');
  });
});

describe('Athena', () => {
  it('runs the quality query and reads typed results', async () => {
    const header = ['entity', 'check', 'value', 'threshold', 'passed'];
    const data = [
      ['orders', 'validity', '0.98', '0.97', 'true'],
      ['orders', 'row_count', '120', '1', 'true'],
      ['customers', 'completeness', '0.5', '0.95', 'false'],
    ];
    await moto.queueAthenaResults('us-east-1', [
      {
        rows: [header, ...data].map((r) => ({ Data: r.map((v) => ({ VarCharValue: v })) })),
        column_info: [
          { Name: 'entity', Type: 'varchar' },
          { Name: 'check', Type: 'varchar' },
          { Name: 'value', Type: 'double' },
          { Name: 'threshold', Type: 'double' },
          { Name: 'passed', Type: 'boolean' },
        ],
      },
    ]);
    const thresholds = { completeness: 0.95, validity: 0.97, keyUniqueness: 0.99, referentialConsistency: 0.99, minRows: 1 };
    const { queryId } = await acts.startQuery({ run: run('validate'), query: 'quality_checks', thresholds });
    const state = await acts.getQueryState({ run: run('validate'), queryId });
    expect(state.state).toBe('SUCCEEDED');
    expect(state.metrics?.bytesScanned).toBe(0);
    expect(state.consoleUrl).toContain(`athena/home?region=us-east-1#/query-editor/history/${queryId}`);

    const page = await acts.getQueryResults({ run: run('validate'), queryId });
    expect(page.columns.map((c) => c.type)).toEqual(['varchar', 'varchar', 'double', 'double', 'boolean']);
    expect(page.rows).toEqual([
      ['orders', 'validity', 0.98, 0.97, true],
      ['orders', 'row_count', 120, 1, true],
      ['customers', 'completeness', 0.5, 0.95, false],
    ]);
    const results = toQualityResults(pageToRecords(page));
    expect(results.filter((r) => !r.passed)).toEqual([
      { entity: 'customers', check: 'completeness', value: 0.5, threshold: 0.95, passed: false },
    ]);
  });

  it('stops a query it started: its state then reads CANCELLED, and stopping again is no failure', async () => {
    const thresholds = { completeness: 0.95, validity: 0.97, keyUniqueness: 0.99, referentialConsistency: 0.99, minRows: 1 };
    const { queryId } = await acts.startQuery({ run: run('validate'), query: 'quality_checks', thresholds });
    await acts.stopQuery({ run: run('validate'), queryId });
    const state = await acts.getQueryState({ run: run('validate'), queryId });
    expect(state.state).toBe('CANCELLED');
    expect(state.message).toContain(`Athena query ${queryId} was cancelled`);
    expect(state.consoleUrl).toContain(queryId);
    // A cancel that is retried (or races the query's end) must not fail the cancel.
    await acts.stopQuery({ run: run('validate'), queryId });
    expect((await acts.getQueryState({ run: run('validate'), queryId })).state).toBe('CANCELLED');
  });

  it('fails fast naming a workgroup that does not exist', async () => {
    const other = createAwsActivities({ ...config, athenaWorkgroup: 'missing-wg' }, { webUiUrl: '', clients });
    const thresholds = { completeness: 0.95, validity: 0.97, keyUniqueness: 0.99, referentialConsistency: 0.99, minRows: 1 };
    const err = await expectFailure(other.startQuery({ run: run('validate'), query: 'quality_checks', thresholds }));
    expect((err as ApplicationFailure).type).toBe('MissingResource');
    expect(err.message).toContain('Athena workgroup missing-wg');
  });
});

describe('SNS', () => {
  it('publishes a notice that reaches a subscribed SQS queue with subject and attributes', async () => {
    const sqs = new SQSClient({ region: 'us-east-1', endpoint: moto.url });
    try {
      const { TopicArn } = await clients.sns.send(new CreateTopicCommand({ Name: 'pipeline-notices' }));
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'pipeline-notices-inbox' }));
      const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
      await clients.sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: attrs.Attributes?.QueueArn }));

      const withTopic = createAwsActivities({ ...config, snsTopicArn: TopicArn }, { webUiUrl: 'http://127.0.0.1:8233', clients });
      const notice: Notice = {
        key: 'daily-2025-10-27/transform/failed',
        kind: 'stage_failed',
        runDate: '2025-10-27',
        workflowId: 'daily-2025-10-27',
        runId: 'r-1',
        namespace: 'default',
        subject: 'Pipeline 2025-10-27: transform failed — Glue job\nneeds you ' + 'x'.repeat(120),
        text: 'Glue job ecommerce-etl-job run jr_1 ended FAILED: boom',
        stages: [{ stage: 'transform', state: 'failed', attempts: 2, message: 'boom' }],
      };
      const res = await withTopic.publishNotification(notice);
      expect(res.channels).toEqual([`sns:${TopicArn}`]);
      expect(res.messageId).not.toBe('');

      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5, MaxNumberOfMessages: 1 }));
      const envelope = JSON.parse(got.Messages?.[0]?.Body ?? '{}') as {
        Subject: string;
        Message: string;
        MessageAttributes: Record<string, { Value: string }>;
      };
      expect(envelope.Subject.length).toBeLessThanOrEqual(100);
      expect(envelope.Subject).toMatch(/^Pipeline 2025-10-27: transform failed - Glue job needs you x+\.\.\.$/);
      expect(envelope.Message).toContain('Glue job ecommerce-etl-job run jr_1 ended FAILED: boom');
      expect(envelope.Message).toMatch(/transform\s+failed\s+-, 2 attempts - boom/);
      // The same body as every other channel, with the run's page in the Web UI.
      expect(envelope.Message).toContain('http://127.0.0.1:8233/namespaces/default/workflows/daily-2025-10-27/r-1/history');
      expect(envelope.MessageAttributes.status?.Value).toBe('stage_failed');
      expect(envelope.MessageAttributes.run_date?.Value).toBe('2025-10-27');
    } finally {
      sqs.destroy();
    }
  });

  it('fails fast naming a topic that does not exist', async () => {
    const arn = 'arn:aws:sns:us-east-1:123456789012:missing-topic';
    const other = createAwsActivities({ ...config, snsTopicArn: arn }, { webUiUrl: '', clients });
    const err = await expectFailure(
      other.publishNotification({
        key: 'k',
        kind: 'succeeded',
        runDate: '2025-10-27',
        workflowId: 'w',
        runId: 'r',
        namespace: 'default',
        subject: 's',
        text: 't',
        stages: [],
      }),
    );
    expect((err as ApplicationFailure).type).toBe('MissingResource');
    expect(err.message).toContain('missing-topic');
  });
});

describe('CloudWatch Logs tail of a failed Glue run', () => {
  it("reads the last lines of the run's error stream, and falls back to naming it when it cannot", async () => {
    const group = '/aws-glue/jobs/error';
    await clients.logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    await clients.logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 'jr_9' }));
    const start = Date.now() - 60_000;
    const lines = Array.from({ length: 14 }, (_, i) => `line ${i + 1}`);
    lines[12] = 'pyspark.errors.exceptions.captured.AnalysisException: [PATH_NOT_FOUND] Path does not exist: s3://b/raw';
    await clients.logs.send(
      new PutLogEventsCommand({
        logGroupName: group,
        logStreamName: 'jr_9',
        logEvents: lines.map((message, i) => ({ timestamp: start + i, message })),
      }),
    );

    const tail = await tailLogStream(clients.logs, group, 'jr_9', 10);
    expect(tail?.lines).toEqual(lines.slice(4));
    const text = await glueRunErrorTail(clients.logs, '/aws-glue/jobs', 'jr_9', 3);
    expect(text).toBe(`\nlast 3 line(s) of ${group}/jr_9:\n  line 12\n  ${lines[12]}\n  line 14`);
    // Continuous logging (Glue 5.0) names the driver's stream <runId>-driver.
    await clients.logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 'jr_10-driver' }));
    await clients.logs.send(
      new PutLogEventsCommand({
        logGroupName: group,
        logStreamName: 'jr_10-driver',
        logEvents: [{ timestamp: start, message: 'Traceback: boom' }],
      }),
    );
    expect(await glueRunErrorTail(clients.logs, '/aws-glue/jobs', 'jr_10')).toBe(
      `\nlast 1 line(s) of ${group}/jr_10-driver:\n  Traceback: boom`,
    );
    // No such stream (the run never started its driver): the message only says where to look.
    expect(await glueRunErrorTail(clients.logs, '/aws-glue/jobs', 'jr_missing')).toBe(` (logs: ${group}/jr_missing)`);
  });
});
