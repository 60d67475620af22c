/**
 * `pipeline aws setup`: checks (plan) or creates (apply) what the aws backend needs, each step
 * idempotent: the bucket and its folders, the arrivals queue and the bucket's raw/ notification for
 * `pipeline watch`, the Glue database, crawler and job (with its script and the rules it runs), the
 * Athena workgroup and the Redshift schema. Existing resources are reported,
 * never changed, except the job script, which is uploaded again when it differs from
 * glue/ecommerce_etl_job.py, and the rules file (the contract rendered as Spark SQL by src/rules,
 * `scripts/rules-<model>.spark.json`), uploaded again when it differs from this release's; one that
 * differs from what setup would create (a crawler over another path, a job on another Glue version
 * or script) is reported `outdated`. The plan reads the warehouse catalog (one read-only query) to
 * tell which of ddl.sql's schema and tables exist.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectFile } from '../../activities/aws/project-files';
import { ensureSheetTables } from './sheet-tables';
import { ensureArrivalsQueue } from './arrivals-queue';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createSqsClient } from '../../arrivals/sqs-queue';
import { CreateWorkGroupCommand, GetWorkGroupCommand } from '@aws-sdk/client-athena';
import {
  CreateCrawlerCommand,
  CreateDatabaseCommand,
  CreateJobCommand,
  GetCrawlerCommand,
  GetDatabaseCommand,
  GetJobCommand,
} from '@aws-sdk/client-glue';
import { DescribeStatementCommand, ExecuteStatementCommand, GetStatementResultCommand } from '@aws-sdk/client-redshift-data';
import { CreateBucketCommand, HeadBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { BucketLocationConstraint } from '@aws-sdk/client-s3';
import type { AwsConfig } from '../../config';
import { badConfig } from '../../activities/errors';
import { awsCall, awsErrorName, NOT_FOUND_ERRORS, NOT_FOUND_MESSAGE } from '../../activities/aws/aws-errors';
import type { AwsClients } from '../../activities/aws/clients';
import { MODEL_VERSION, rulesArtifactText } from '../../rules/artifact';
import { rulesObjectKey } from '../../activities/aws/transform';
import { lakePaths } from '../../activities/aws/lake-paths';
import { executeStatements, statementsFor, warehouseTarget } from '../../activities/aws/load';

/** glue/ecommerce_etl_job.py of this checkout or image (see src/activities/aws/project-files.ts). */
export function findGlueScript(from = __dirname): string {
  return projectFile(path.join('glue', 'ecommerce_etl_job.py'), from);
}

export const GLUE_SCRIPT = findGlueScript();

/**
 * Glue 5.0 runs Spark 3.5.4 on Python 3.11 and Java 17; glue/tests runs the job on the same pyspark
 * (requirements-test.txt). A job on any other version is reported outdated.
 */
export const GLUE_VERSION = '5.0';
export const GLUE_RUNTIME = 'Spark 3.5, Python 3.11';

/** `unknown`: could not be checked (the plan could not read the warehouse's catalog). */
export type StepState = 'exists' | 'missing' | 'created' | 'updated' | 'skipped' | 'outdated' | 'unknown';

export interface SetupStep {
  resource: string;
  state: StepState;
  detail?: string;
  /** An outdated resource that --apply brings up to date (the job script); others are left as they are. */
  applyUpdates?: boolean;
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
  /** The arrivals queue's client; by default one is made from the configuration and closed after. */
  sqs?: SQSClient;
}

/** Runs a read; undefined when the resource is absent, other failures classified. */
async function lookup<T>(resource: string, action: string, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    const msg = String((err as Error).message ?? '');
    // A missing Athena workgroup is a rejected request that says so.
    if (NOT_FOUND_ERRORS.has(awsErrorName(err)) || (awsErrorName(err) === 'InvalidRequestException' && NOT_FOUND_MESSAGE.test(msg)))
      return undefined;
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
          ...(config.region === 'us-east-1'
            ? {}
            : { CreateBucketConfiguration: { LocationConstraint: config.region as BucketLocationConstraint } }),
        }),
      ),
    ),
  );
  const folders = [paths.rawKey, paths.processedKey, `${config.prefix}scripts/`];
  if (config.athenaOutput.startsWith(`s3://${bucket}/`))
    folders.push(config.athenaOutput.slice(`s3://${bucket}/`.length).replace(/\/?$/, '/'));
  for (const key of folders) {
    const res = `S3 folder s3://${bucket}/${key}`;
    const found =
      hasBucket && (await lookup(res, 'HeadObject', () => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })))) !== undefined;
    await ensure(res, found, () => awsCall(res, 'PutObject', () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: '' }))));
  }

  // ---- SQS: where the bucket's raw/ notifications go, for `pipeline watch` ----
  const sqs = options.sqs ?? createSqsClient(config);
  try {
    await ensureArrivalsQueue(s3, sqs, config, record, { apply: options.apply, hasBucket: hasBucket || options.apply });
  } finally {
    if (!options.sqs) sqs.destroy();
  }

  // ---- Glue ----
  const dbRes = `Glue database ${config.glueDatabase}`;
  const db = await lookup(dbRes, 'GetDatabase', () => glue.send(new GetDatabaseCommand({ Name: config.glueDatabase })));
  await ensure(dbRes, db !== undefined, () =>
    awsCall(dbRes, 'CreateDatabase', () =>
      glue.send(
        new CreateDatabaseCommand({
          DatabaseInput: { Name: config.glueDatabase, Description: 'Raw e-commerce files, as crawled from raw/' },
        }),
      ),
    ),
  );

  const needRole = () => {
    if (!config.glueRoleArn)
      throw badConfig('PIPELINE_GLUE_ROLE_ARN is required to create the Glue crawler and job (the role they run as)');
    return config.glueRoleArn;
  };

  const crawlerRes = `Glue crawler ${config.glueCrawler}`;
  const crawler = await lookup(crawlerRes, 'GetCrawler', () => glue.send(new GetCrawlerCommand({ Name: config.glueCrawler })));
  // One table per entity folder: raw/ sits below the bucket (level 1) and the prefix's folders.
  const tableLevel = 1 + config.prefix.split('/').filter(Boolean).length + 2;
  const crawlTargets = crawler?.Crawler?.Targets?.S3Targets?.map((t) => t.Path) ?? [];
  if (crawler && !crawlTargets.some((p) => p?.replace(/\/?$/, '/') === paths.rawUri)) {
    record({ resource: crawlerRes, state: 'outdated', detail: `crawls ${crawlTargets.join(', ') || 'nothing'}, expected ${paths.rawUri}` });
  } else {
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
              Configuration: JSON.stringify({
                Version: 1.0,
                Grouping: { TableLevelConfiguration: tableLevel, TableGroupingPolicy: 'CombineCompatibleSchemas' },
              }),
            }),
          ),
        ),
      `over ${paths.rawUri}`,
    );
  }

  // The rules the job runs, beside its script; the job refuses a file of another model than the
  // worker that starts it passes, so this must follow every release.
  const rulesKey = rulesObjectKey(config);
  const rulesRes = `Glue job rules s3://${bucket}/${rulesKey}`;
  const rules = Buffer.from(rulesArtifactText('spark'));
  const rulesHead = hasBucket
    ? await lookup(rulesRes, 'HeadObject', () => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: rulesKey })))
    : undefined;
  const uploadRules = () =>
    awsCall(rulesRes, 'PutObject', () =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: rulesKey, Body: rules, ContentType: 'application/json' })),
    );
  const rulesDetail = `rules model ${MODEL_VERSION}, rendered from src/shared for Spark`;
  if (rulesHead && rulesHead.ETag?.replace(/"/g, '') !== md5(rules)) {
    if (options.apply) {
      await uploadRules();
      record({ resource: rulesRes, state: 'updated', detail: rulesDetail });
    } else record({ resource: rulesRes, state: 'outdated', detail: `differs from ${rulesDetail}; would upload`, applyUpdates: true });
  } else await ensure(rulesRes, rulesHead !== undefined, uploadRules, rulesDetail);

  await ensureSheetTables(glue, config, record, { apply: options.apply });

  const scriptPath = options.scriptPath ?? GLUE_SCRIPT;
  const scriptRes = `Glue job script s3://${bucket}/${paths.scriptKey}`;
  const jobRes = `Glue job ${config.glueJob}`;
  if (!existsSync(scriptPath)) {
    record({ resource: scriptRes, state: 'skipped', detail: `WARNING: ${scriptPath} does not exist; the Glue job is not set up` });
    record({ resource: jobRes, state: 'skipped', detail: 'no job script' });
  } else {
    const script = readFileSync(scriptPath);
    const head = hasBucket
      ? await lookup(scriptRes, 'HeadObject', () => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: paths.scriptKey })))
      : undefined;
    const upload = () =>
      awsCall(scriptRes, 'PutObject', () =>
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: paths.scriptKey, Body: script, ContentType: 'text/x-python' })),
      );
    if (head && head.ETag?.replace(/"/g, '') !== md5(script)) {
      if (options.apply) {
        await upload();
        record({ resource: scriptRes, state: 'updated', detail: `from ${scriptPath}` });
      } else record({ resource: scriptRes, state: 'outdated', detail: `differs from ${scriptPath}; would upload`, applyUpdates: true });
    } else await ensure(scriptRes, head !== undefined, upload, `from ${scriptPath}`);

    const job = await lookup(jobRes, 'GetJob', () => glue.send(new GetJobCommand({ JobName: config.glueJob })));
    const scriptUri = `s3://${bucket}/${paths.scriptKey}`;
    const jobDiffers = job?.Job ? jobDifferences(job.Job, scriptUri) : [];
    if (jobDiffers.length > 0) {
      record({
        resource: jobRes,
        state: 'outdated',
        detail: `${jobDiffers.join('; ')} (setup does not change an existing job: edit it, or delete it and run setup --apply)`,
      });
    } else {
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
                Command: { Name: 'glueetl', ScriptLocation: scriptUri, PythonVersion: '3' },
                GlueVersion: GLUE_VERSION,
                WorkerType: 'G.1X',
                NumberOfWorkers: 2,
                Timeout: 120,
                MaxRetries: 0, // the workflow decides about retries
                ExecutionProperty: { MaxConcurrentRuns: 1 },
                DefaultArguments: {
                  '--job-language': 'python',
                  '--additional-python-modules': 'openpyxl==3.1.5',
                  '--enable-metrics': 'true',
                  // Glue 5.0 streams every job's logs to CloudWatch; continuous logging is a 4.0 setting.
                },
              }),
            ),
          ),
        `glueetl ${GLUE_VERSION} (${GLUE_RUNTIME}), 2 x G.1X, one run at a time`,
      );
    }
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
    const timeoutMs = options.warehouseTimeoutMs ?? 10 * 60_000;
    if (!options.apply) {
      record({ resource: schemaRes, ...(await planWarehouse(clients, config, ddl, timeoutMs)) });
    } else {
      const { statementId } = await executeStatements(clients.redshiftData, config, ddl, 'pipeline-setup-ddl');
      await waitForStatement(clients, statementId, timeoutMs, 'ddl.sql');
      record({ resource: schemaRes, state: 'updated', detail: `ran ddl.sql (${ddl.length} statements, statement ${statementId})` });
    }
  }
  return steps;
}

/** How an existing job differs from the one setup creates, in words; empty when it does not. */
function jobDifferences(job: { GlueVersion?: string; Command?: { ScriptLocation?: string } }, scriptUri: string): string[] {
  const out: string[] = [];
  if (job.GlueVersion !== GLUE_VERSION)
    out.push(`runs Glue ${job.GlueVersion ?? '(version not set)'}, expected ${GLUE_VERSION} (${GLUE_RUNTIME})`);
  if (job.Command?.ScriptLocation !== scriptUri) out.push(`runs ${job.Command?.ScriptLocation ?? 'no script'}, expected ${scriptUri}`);
  return out;
}

/**
 * The schema and tables ddl.sql creates, as the warehouse's catalog has them. Leader-node catalog
 * tables only, so it reads no user data; one statement, so the Data API takes the parameter.
 */
export const WAREHOUSE_CATALOG_SQL = `SELECT 'schema' AS kind, nspname::varchar AS name FROM pg_namespace WHERE nspname = :schema
UNION ALL
SELECT 'table' AS kind, tablename::varchar AS name FROM pg_tables WHERE schemaname = :schema`;

/** Table names of the `CREATE TABLE IF NOT EXISTS schema.name` statements of rendered ddl.sql. */
export function ddlTables(ddl: string[], schema: string): string[] {
  return ddl.flatMap((sql) => {
    const m = /^CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([a-z0-9_]+)\.([a-z0-9_]+)/i.exec(sql);
    return m && m[1]!.toLowerCase() === schema ? [m[2]!.toLowerCase()] : [];
  });
}

/** The plan's Redshift step: what ddl.sql would create, read from the catalog; unknown when it cannot be read. */
async function planWarehouse(
  clients: AwsClients,
  config: AwsConfig,
  ddl: string[],
  timeoutMs: number,
): Promise<Omit<SetupStep, 'resource'>> {
  const schema = config.redshift.schema;
  const wanted = ddlTables(ddl, schema);
  const script = `ddl.sql (${ddl.length} statements, all IF NOT EXISTS)`;
  const target = warehouseTarget(config);
  let rows: { kind: string; name: string }[];
  try {
    const started = await awsCall(target.label, 'ExecuteStatement', () =>
      clients.redshiftData.send(
        new ExecuteStatementCommand({
          ...target.params,
          StatementName: 'pipeline-setup-plan',
          Sql: WAREHOUSE_CATALOG_SQL,
          Parameters: [{ name: 'schema', value: schema }],
        }),
      ),
    );
    if (!started.Id) throw new Error(`${target.label}: the Data API returned no statement id`);
    await waitForStatement(clients, started.Id, timeoutMs, 'catalog query');
    rows = await readRows(clients, started.Id);
  } catch (err) {
    const reason = String((err as Error).message ?? err).replace(/\s+/g, ' ');
    return { state: 'unknown', detail: `could not read the warehouse catalog (${reason}); --apply would run ${script}` };
  }
  if (!rows.some((r) => r.kind === 'schema'))
    return { state: 'missing', detail: `would run ${script}: schema and ${wanted.length} tables` };
  const present = new Set(rows.filter((r) => r.kind === 'table').map((r) => r.name));
  const absent = wanted.filter((t) => !present.has(t));
  if (absent.length > 0) return { state: 'missing', detail: `schema exists; would run ${script} to create ${absent.join(', ')}` };
  return { state: 'exists', detail: `schema and its ${wanted.length} tables` };
}

async function readRows(clients: AwsClients, statementId: string): Promise<{ kind: string; name: string }[]> {
  const rows: { kind: string; name: string }[] = [];
  let nextToken: string | undefined;
  do {
    const out = await awsCall(`Redshift statement ${statementId}`, 'GetStatementResult', () =>
      clients.redshiftData.send(new GetStatementResultCommand({ Id: statementId, NextToken: nextToken })),
    );
    for (const rec of out.Records ?? []) rows.push({ kind: rec[0]?.stringValue ?? '', name: rec[1]?.stringValue ?? '' });
    nextToken = out.NextToken;
  } while (nextToken);
  return rows;
}

async function waitForStatement(clients: AwsClients, statementId: string, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await awsCall(`Redshift statement ${statementId}`, 'DescribeStatement', () =>
      clients.redshiftData.send(new DescribeStatementCommand({ Id: statementId })),
    );
    if (d.Status === 'FINISHED') return;
    if (d.Status === 'FAILED' || d.Status === 'ABORTED')
      throw new Error(`Redshift statement ${statementId} (${what}) ${d.Status}: ${d.Error ?? 'no error message'}`);
    if (Date.now() >= deadline)
      throw new Error(`Redshift statement ${statementId} (${what}) still ${d.Status} after ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}
