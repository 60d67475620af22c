/**
 * `pipeline aws setup`: checks (plan) or creates (apply) what the aws backend needs, each step
 * idempotent: the bucket and its folders, the Glue database, crawler and job (with its script), the
 * Athena workgroup and the Redshift schema. Existing resources are reported, never changed, except
 * the job script, which is uploaded again when it differs from glue/ecommerce_etl_job.py.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CreateWorkGroupCommand, GetWorkGroupCommand } from '@aws-sdk/client-athena';
import { CreateCrawlerCommand, CreateDatabaseCommand, CreateJobCommand, GetCrawlerCommand, GetDatabaseCommand, GetJobCommand } from '@aws-sdk/client-glue';
import { DescribeStatementCommand } from '@aws-sdk/client-redshift-data';
import { CreateBucketCommand, HeadBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { BucketLocationConstraint } from '@aws-sdk/client-s3';
import type { AwsConfig } from '../../config';
import { badConfig } from '../errors';
import { awsCall, awsErrorName } from './aws-errors';
import type { AwsClients } from './clients';
import { lakePaths } from './lake-paths';
import { executeStatements, statementsFor, warehouseTarget } from './redshift';

export const GLUE_SCRIPT = path.resolve(__dirname, '../../../glue/ecommerce_etl_job.py');

export type StepState = 'exists' | 'missing' | 'created' | 'updated' | 'skipped' | 'outdated';

export interface SetupStep {
  resource: string;
  state: StepState;
  detail?: string;
}

export interface SetupOptions {
  apply: boolean;
  /** Leave the Redshift schema alone (no warehouse reachable yet, or a test against moto). */
  skipWarehouse?: boolean;
  scriptPath?: string;
  sqlDir?: string;
  /** How long to wait for the DDL statement; Redshift Serverless may need to resume first. */
  warehouseTimeoutMs?: number;
  onStep?: (step: SetupStep) => void;
}

const NOT_FOUND = new Set(['NotFound', 'NoSuchBucket', 'NoSuchKey', 'EntityNotFoundException', 'CrawlerNotFoundException', 'ResourceNotFoundException']);

/** Runs a read; undefined when the resource is absent, other failures classified. */
async function lookup<T>(resource: string, action: string, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    const msg = String((err as Error).message ?? '');
    if (NOT_FOUND.has(awsErrorName(err)) || (awsErrorName(err) === 'InvalidRequestException' && /not (be )?found|does not exist/i.test(msg))) return undefined;
    return awsCall(resource, action, () => Promise.reject(err));
  }
}

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

export async function runSetup(config: AwsConfig, clients: AwsClients, options: SetupOptions): Promise<SetupStep[]> {
  const steps: SetupStep[] = [];
  const paths = lakePaths(config);
  const record = (step: SetupStep) => {
    steps.push(step);
    options.onStep?.(step);
  };
  const ensure = async (resource: string, found: boolean, create: () => Promise<unknown>, detail?: string) => {
    if (found) return record({ resource, state: 'exists' });
    if (!options.apply) return record({ resource, state: 'missing', detail: detail ? `would create: ${detail}` : 'would create' });
    await create();
    record({ resource, state: 'created', ...(detail ? { detail } : {}) });
  };
  const { s3, glue, athena } = clients;
  const bucket = config.bucket;

  // ---- S3 ----
  const bucketRes = `S3 bucket ${bucket}`;
  const hasBucket = (await lookup(bucketRes, 'HeadBucket', () => s3.send(new HeadBucketCommand({ Bucket: bucket })))) !== undefined;
  await ensure(bucketRes, hasBucket, () =>
    awsCall(bucketRes, 'CreateBucket', () =>
      s3.send(
        new CreateBucketCommand({
          Bucket: bucket,
          ...(config.region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: config.region as BucketLocationConstraint } }),
        }),
      ),
    ),
  );
  const folders = [paths.rawKey, paths.processedKey, `${config.prefix}scripts/`];
  if (config.athenaOutput.startsWith(`s3://${bucket}/`)) folders.push(config.athenaOutput.slice(`s3://${bucket}/`.length).replace(/\/?$/, '/'));
  for (const key of folders) {
    const res = `S3 folder s3://${bucket}/${key}`;
    const found = hasBucket && (await lookup(res, 'HeadObject', () => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })))) !== undefined;
    await ensure(res, found, () => awsCall(res, 'PutObject', () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: '' }))));
  }

  // ---- Glue ----
  const dbRes = `Glue database ${config.glueDatabase}`;
  const db = await lookup(dbRes, 'GetDatabase', () => glue.send(new GetDatabaseCommand({ Name: config.glueDatabase })));
  await ensure(dbRes, db !== undefined, () =>
    awsCall(dbRes, 'CreateDatabase', () =>
      glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: config.glueDatabase, Description: 'Raw e-commerce files, as crawled from raw/' } })),
    ),
  );

  const needRole = () => {
    if (!config.glueRoleArn) throw badConfig('PIPELINE_GLUE_ROLE_ARN is required to create the Glue crawler and job (the role they run as)');
    return config.glueRoleArn;
  };

  const crawlerRes = `Glue crawler ${config.glueCrawler}`;
  const crawler = await lookup(crawlerRes, 'GetCrawler', () => glue.send(new GetCrawlerCommand({ Name: config.glueCrawler })));
  // One table per entity folder: raw/ sits below the bucket (level 1) and the prefix's folders.
  const tableLevel = 1 + config.prefix.split('/').filter(Boolean).length + 2;
  await ensure(
    crawlerRes,
    crawler !== undefined,
    () =>
      awsCall(crawlerRes, 'CreateCrawler', () =>
        glue.send(
          new CreateCrawlerCommand({
            Name: config.glueCrawler,
            Role: needRole(),
            DatabaseName: config.glueDatabase,
            Description: 'Daily e-commerce raw files: one table per entity, one partition per date',
            // Spreadsheets are read by the Glue job, not the crawler (no classifier for .xlsx).
            Targets: { S3Targets: [{ Path: paths.rawUri, Exclusions: ['**.xlsx'] }] },
            SchemaChangePolicy: { UpdateBehavior: 'UPDATE_IN_DATABASE', DeleteBehavior: 'LOG' },
            RecrawlPolicy: { RecrawlBehavior: 'CRAWL_EVERYTHING' },
            Configuration: JSON.stringify({ Version: 1.0, Grouping: { TableLevelConfiguration: tableLevel, TableGroupingPolicy: 'CombineCompatibleSchemas' } }),
          }),
        ),
      ),
    `over ${paths.rawUri}`,
  );
  const crawlTargets = crawler?.Crawler?.Targets?.S3Targets?.map((t) => t.Path) ?? [];
  if (crawler && !crawlTargets.some((p) => p?.replace(/\/?$/, '/') === paths.rawUri)) {
    steps[steps.length - 1] = { resource: crawlerRes, state: 'outdated', detail: `crawls ${crawlTargets.join(', ') || 'nothing'}, expected ${paths.rawUri}` };
  }

  const scriptPath = options.scriptPath ?? GLUE_SCRIPT;
  const scriptRes = `Glue job script s3://${bucket}/${paths.scriptKey}`;
  const jobRes = `Glue job ${config.glueJob}`;
  if (!existsSync(scriptPath)) {
    record({ resource: scriptRes, state: 'skipped', detail: `WARNING: ${scriptPath} does not exist; the Glue job is not set up` });
    record({ resource: jobRes, state: 'skipped', detail: 'no job script' });
  } else {
    const script = readFileSync(scriptPath);
    const head = hasBucket ? await lookup(scriptRes, 'HeadObject', () => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: paths.scriptKey }))) : undefined;
    const upload = () => awsCall(scriptRes, 'PutObject', () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: paths.scriptKey, Body: script, ContentType: 'text/x-python' })));
    if (head && head.ETag?.replace(/"/g, '') !== md5(script)) {
      if (options.apply) {
        await upload();
        record({ resource: scriptRes, state: 'updated', detail: `from ${scriptPath}` });
      } else record({ resource: scriptRes, state: 'outdated', detail: `differs from ${scriptPath}; would upload` });
    } else await ensure(scriptRes, head !== undefined, upload, `from ${scriptPath}`);

    const job = await lookup(jobRes, 'GetJob', () => glue.send(new GetJobCommand({ JobName: config.glueJob })));
    await ensure(
      jobRes,
      job !== undefined,
      () =>
        awsCall(jobRes, 'CreateJob', () =>
          glue.send(
            new CreateJobCommand({
              Name: config.glueJob,
              Description: 'Daily e-commerce ETL: raw -> silver/gold Parquet, rejects and metrics for one date',
              Role: needRole(),
              Command: { Name: 'glueetl', ScriptLocation: `s3://${bucket}/${paths.scriptKey}`, PythonVersion: '3' },
              GlueVersion: '4.0',
              WorkerType: 'G.1X',
              NumberOfWorkers: 2,
              Timeout: 120,
              MaxRetries: 0, // the workflow decides about retries
              ExecutionProperty: { MaxConcurrentRuns: 1 },
              DefaultArguments: {
                '--job-language': 'python',
                '--additional-python-modules': 'openpyxl==3.1.5',
                '--enable-metrics': 'true',
                '--enable-continuous-cloudwatch-log': 'true',
              },
            }),
          ),
        ),
      'glueetl 4.0, 2 x G.1X, one run at a time',
    );
  }

  // ---- Athena ----
  const wgRes = `Athena workgroup ${config.athenaWorkgroup}`;
  const wg = await lookup(wgRes, 'GetWorkGroup', () => athena.send(new GetWorkGroupCommand({ WorkGroup: config.athenaWorkgroup })));
  await ensure(
    wgRes,
    wg?.WorkGroup?.Name !== undefined,
    () =>
      awsCall(wgRes, 'CreateWorkGroup', () =>
        athena.send(
          new CreateWorkGroupCommand({
            Name: config.athenaWorkgroup,
            Description: 'E-commerce pipeline quality checks',
            Configuration: {
              ResultConfiguration: { OutputLocation: config.athenaOutput },
              // The quality query reads one day's partition; this caps a mistake's cost.
              BytesScannedCutoffPerQuery: 10 * 1024 ** 3,
              PublishCloudWatchMetricsEnabled: true,
            },
          }),
        ),
      ),
    `results in ${config.athenaOutput}`,
  );

  // ---- Redshift ----
  const schemaRes = `Redshift schema ${config.redshift.schema} (${warehouseTarget(config).label})`;
  if (options.skipWarehouse) {
    record({ resource: schemaRes, state: 'skipped', detail: '--skip-warehouse' });
  } else {
    const ddl = statementsFor(config, 'ddl', undefined, options.sqlDir);
    if (!options.apply) {
      record({ resource: schemaRes, state: 'missing', detail: `would run ddl.sql (${ddl.length} statements, all IF NOT EXISTS)` });
    } else {
      const { statementId } = await executeStatements(clients.redshiftData, config, ddl, 'pipeline-setup-ddl');
      await waitForStatement(clients, statementId, options.warehouseTimeoutMs ?? 10 * 60_000);
      record({ resource: schemaRes, state: 'updated', detail: `ran ddl.sql (${ddl.length} statements, statement ${statementId})` });
    }
  }
  return steps;
}

async function waitForStatement(clients: AwsClients, statementId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await awsCall(`Redshift statement ${statementId}`, 'DescribeStatement', () => clients.redshiftData.send(new DescribeStatementCommand({ Id: statementId })));
    if (d.Status === 'FINISHED') return;
    if (d.Status === 'FAILED' || d.Status === 'ABORTED') throw new Error(`Redshift statement ${statementId} (ddl.sql) ${d.Status}: ${d.Error ?? 'no error message'}`);
    if (Date.now() > deadline) throw new Error(`Redshift statement ${statementId} (ddl.sql) still ${d.Status} after ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}
