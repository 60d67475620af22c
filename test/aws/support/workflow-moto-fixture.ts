/**
 * One day's AWS world on moto for a whole-workflow run: raw CSV files in S3, the Glue database,
 * crawler and job, an Athena workgroup with a canned quality report, an SNS topic delivering to an
 * SQS queue, and a Redshift Data client answered in-process (moto's Data API does not serve the JS
 * SDK). moto runs neither crawlers nor Spark, so `playCrawler` and `playGlueJob` do their part.
 */
import { CreateWorkGroupCommand } from '@aws-sdk/client-athena';
import {
  CreateCrawlerCommand,
  CreateDatabaseCommand,
  CreateJobCommand,
  CreateTableCommand,
  GetCrawlerCommand,
  GetJobRunsCommand,
} from '@aws-sdk/client-glue';
import type { JobRun } from '@aws-sdk/client-glue';
import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import type { AwsClients } from '../../../src/activities/aws/clients';
import type { AwsConfig } from '../../../src/config';
import type { Entity } from '../../../src/shared/contract';
import type { QualityResult } from '../../../src/shared/quality';
import { DEFAULT_QUALITY_THRESHOLDS, judge } from '../../../src/shared/quality';
import type { MotoServer } from '../../support/moto';

/** A small, clean day: every row loads, so the warehouse counts equal the raw counts. */
export const RAW_FILES: Record<Entity, { file: string; header: string; rows: string[] }> = {
  customers: {
    file: 'customers.csv',
    header: 'customer_id,first_name,last_name,email,join_date,city,state',
    rows: [
      '1,Ada,Lovelace,ada@example.com,2024-01-05,London,LN',
      '2,Alan,Turing,alan@example.com,2024-02-11,Wilmslow,CH',
      '3,Grace,Hopper,grace@example.com,2024-03-09,Arlington,VA',
    ],
  },
  products: {
    file: 'products.csv',
    header: 'product_id,product_name,category,price',
    rows: ['10,Desk lamp,home,24.50', '11,Notebook,office,3.20'],
  },
  orders: {
    file: 'orders.csv',
    header: 'order_id,customer_id,product_id,order_date,order_amount,quantity',
    rows: ['100,1,10,2025-10-27,24.50,1', '101,2,11,2025-10-27,6.40,2', '102,3,10,2025-10-27,49.00,2', '103,1,11,2025-10-27,3.20,1'],
  },
};

/** Sum of the orders' order_amount, as the warehouse would report it. */
export const ORDERS_REVENUE = Math.round(RAW_FILES.orders.rows.reduce((sum, r) => sum + Number(r.split(',')[4]) * 100, 0)) / 100;

/** What the Glue job writes next to its output: the metric conventions of src/activities/types.ts. */
export function etlMetrics(): Record<string, number> {
  const m: Record<string, number> = {};
  for (const [entity, f] of Object.entries(RAW_FILES)) {
    m[`${entity}.read`] = f.rows.length;
    m[`${entity}.loaded`] = f.rows.length;
    m[`${entity}.rejected`] = 0;
    m[`${entity}.duplicates`] = 0;
  }
  m['orders.revenue'] = ORDERS_REVENUE;
  return m;
}

/** The quality report the Athena query returns, judged against the default thresholds (all pass). */
export function passingQualityReport(): QualityResult[] {
  const results: QualityResult[] = [];
  for (const [entity, f] of Object.entries(RAW_FILES) as [Entity, (typeof RAW_FILES)[Entity]][]) {
    results.push(judge({ entity, check: 'row_count', value: f.rows.length }, DEFAULT_QUALITY_THRESHOLDS));
    for (const check of ['completeness', 'validity', 'key_uniqueness'] as const)
      results.push(judge({ entity, check, value: 1 }, DEFAULT_QUALITY_THRESHOLDS));
  }
  results.push(judge({ entity: 'orders', check: 'referential_consistency', value: 1 }, DEFAULT_QUALITY_THRESHOLDS));
  return results;
}

export interface MotoWorld {
  topicArn: string;
  queueUrl: string;
  sqs: SQSClient;
}

/** Creates every resource the aws backend expects to exist (what `pipeline aws setup` would provide). */
export async function buildMotoWorld(moto: MotoServer, config: AwsConfig, clients: AwsClients, runDate: string): Promise<MotoWorld> {
  const role = config.glueRoleArn ?? 'arn:aws:iam::123456789012:role/pipeline-glue';
  await clients.s3.send(new CreateBucketCommand({ Bucket: config.bucket }));
  for (const [entity, f] of Object.entries(RAW_FILES)) {
    const body = [f.header, ...f.rows].join('\n') + '\n';
    await clients.s3.send(
      new PutObjectCommand({ Bucket: config.bucket, Key: `${config.prefix}raw/${entity}/${runDate}/${f.file}`, Body: body }),
    );
  }

  await clients.glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: config.glueDatabase } }));
  await clients.glue.send(
    new CreateCrawlerCommand({
      Name: config.glueCrawler,
      Role: role,
      DatabaseName: config.glueDatabase,
      Targets: { S3Targets: [{ Path: `s3://${config.bucket}/${config.prefix}raw/` }] },
    }),
  );
  await clients.glue.send(
    new CreateJobCommand({
      Name: config.glueJob,
      Role: role,
      Command: { Name: 'glueetl', ScriptLocation: `s3://${config.bucket}/${config.prefix}scripts/ecommerce_etl_job.py` },
      ExecutionProperty: { MaxConcurrentRuns: 1 },
      MaxCapacity: 2,
    }),
  );
  // Crawl and job run stay RUNNING until playCrawler / playGlueJob have done what the real service would.
  await moto.setTransition('glue::crawl', { progression: 'manual', times: 1_000_000 });
  await moto.setTransition('glue::job_run', { progression: 'manual', times: 1_000_000 });

  await clients.athena.send(
    new CreateWorkGroupCommand({
      Name: config.athenaWorkgroup,
      Configuration: { ResultConfiguration: { OutputLocation: config.athenaOutput } },
    }),
  );
  const report = passingQualityReport();
  const header = ['entity', 'check', 'value', 'threshold', 'passed'];
  const rows = [header, ...report.map((r) => [r.entity, r.check, String(r.value), String(r.threshold), String(r.passed)])];
  await moto.queueAthenaResults(config.region, [
    {
      rows: rows.map((r) => ({ Data: r.map((v) => ({ VarCharValue: v })) })),
      column_info: [
        { Name: 'entity', Type: 'varchar' },
        { Name: 'check', Type: 'varchar' },
        { Name: 'value', Type: 'double' },
        { Name: 'threshold', Type: 'double' },
        { Name: 'passed', Type: 'boolean' },
      ],
    },
  ]);

  const sqs = new SQSClient({ region: config.region, endpoint: moto.url });
  const { TopicArn } = await clients.sns.send(new CreateTopicCommand({ Name: 'pipeline-notices' }));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'pipeline-notices-inbox' }));
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await clients.sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: attrs.Attributes?.QueueArn }));
  return { topicArn: TopicArn!, queueUrl: QueueUrl!, sqs };
}

async function waitFor<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Once the workflow's crawl is running, registers the tables a real crawl would find, then ends the
 * crawl, but only after `readsSeen` says the workflow has read it RUNNING: ending it earlier would let
 * a slow first read see it READY, and the run would never show that it waited.
 */
export async function playCrawler(
  moto: MotoServer,
  config: AwsConfig,
  clients: AwsClients,
  readsSeen: () => Promise<number>,
): Promise<void> {
  await waitFor('the crawl to start', async () => {
    const { Crawler } = await clients.glue.send(new GetCrawlerCommand({ Name: config.glueCrawler }));
    return Crawler?.State === 'RUNNING' ? true : undefined;
  });
  await waitFor('the workflow to read the running crawl', async () => ((await readsSeen()) >= 1 ? true : undefined));
  for (const [entity, f] of Object.entries(RAW_FILES)) {
    await clients.glue.send(
      new CreateTableCommand({
        DatabaseName: config.glueDatabase,
        TableInput: {
          Name: entity,
          Parameters: { recordCount: String(f.rows.length), classification: 'csv' },
          StorageDescriptor: { Columns: f.header.split(',').map((Name) => ({ Name, Type: 'string' })) },
          PartitionKeys: [{ Name: 'partition_0', Type: 'string' }],
        },
      }),
    );
  }
  await moto.setTransition('glue::crawl', { progression: 'immediate' });
}

/**
 * Once the workflow has started a job run for `runDate`, writes the metrics file where the run's own
 * `--processed_path` argument says the job writes it, then lets the run succeed. Returns the run.
 */
export async function playGlueJob(moto: MotoServer, config: AwsConfig, clients: AwsClients, runDate: string): Promise<JobRun> {
  const run = await waitFor('the Glue job run to start', async () => {
    const out = await clients.glue.send(new GetJobRunsCommand({ JobName: config.glueJob }));
    return out.JobRuns?.find((r) => r.Arguments?.['--run_date'] === runDate);
  });
  const processed = run.Arguments?.['--processed_path'] ?? '';
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(processed);
  if (!match) throw new Error(`job run ${run.Id} has no usable --processed_path: ${JSON.stringify(processed)}`);
  await clients.s3.send(
    new PutObjectCommand({
      Bucket: match[1],
      Key: `${match[2]}/_metrics/batch_date=${runDate}/metrics.json`,
      Body: JSON.stringify(etlMetrics()),
    }),
  );
  await moto.setTransition('glue::job_run', { progression: 'immediate' });
  return run;
}

/**
 * A Redshift Data client answered in-process: each statement is STARTED on its first read and
 * FINISHED after; the verify result holds what a correct load of RAW_FILES leaves in the warehouse.
 */
export function fakeRedshiftData(region: string) {
  const client = new RedshiftDataClient({ region, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const mock = mockClient(client);
  const reads = new Map<string, number>();
  let seq = 0;
  mock.on(BatchExecuteStatementCommand).callsFake(() => ({ Id: `stmt-load-${++seq}` }));
  mock.on(ExecuteStatementCommand).callsFake(() => ({ Id: `stmt-verify-${++seq}` }));
  mock.on(DescribeStatementCommand).callsFake((input: { Id?: string }) => {
    const id = input.Id ?? '';
    const n = (reads.get(id) ?? 0) + 1;
    reads.set(id, n);
    if (n === 1) return { Id: id, Status: 'STARTED' };
    const isLoad = id.startsWith('stmt-load-');
    return {
      Id: id,
      Status: 'FINISHED',
      Duration: 1_200_000_000,
      HasResultSet: !isLoad,
      ...(isLoad ? { SubStatements: [{ Id: `${id}:1`, Status: 'FINISHED', ResultRows: 9 }] } : { ResultRows: 3 }),
    };
  });
  mock.on(GetStatementResultCommand).callsFake(() => ({
    ColumnMetadata: [
      { name: 'entity', typeName: 'varchar' },
      { name: 'warehouse_rows', typeName: 'int8' },
      { name: 'superseded_rows', typeName: 'int8' },
      { name: 'revenue', typeName: 'numeric' },
    ],
    Records: (Object.entries(RAW_FILES) as [Entity, (typeof RAW_FILES)[Entity]][]).map(([entity, f]) => [
      { stringValue: entity },
      { longValue: f.rows.length },
      { longValue: 0 },
      entity === 'orders' ? { stringValue: ORDERS_REVENUE.toFixed(2) } : { isNull: true },
    ]),
  }));
  return { client, mock };
}
