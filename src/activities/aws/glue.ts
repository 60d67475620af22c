/** Glue: the crawler over raw/ (catalog stage) and the Spark ETL job (transform stage). */
import { SHEETS_TABLE_PREFIX } from './quality-sql';
import {
  BatchStopJobRunCommand,
  GetCrawlerCommand,
  GetJobRunCommand,
  GetJobRunsCommand,
  GetTablesCommand,
  StartCrawlerCommand,
  StartJobRunCommand,
} from '@aws-sdk/client-glue';
import type { GlueClient, JobRun, Table } from '@aws-sdk/client-glue';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { AwsConfig } from '../../config';
import { MODEL_VERSION, rulesFileName } from '../../rules/artifact';
import { ENTITIES } from '../../shared/contract';
import type { CatalogedTable, CrawlHandle, CrawlStatus, EtlRunHandle, EtlRunStatus, JobState, RunRef } from '../types';
import { awsCall, awsErrorName, classifyAwsError } from './aws-errors';
import { consoleLinks } from './console-links';
import { lakePaths } from './lake-paths';
import { glueRunErrorTail } from './logs';
import { runKey } from './tokens';

/** The job argument that ties a Glue job run to the workflow stage attempt that started it. */
export const RUN_KEY_ARGUMENT = '--pipeline_run_key';
/** The job arguments naming the rules file and the model version this worker's rules are. */
export const RULES_ARGUMENT = '--rules';
export const RULES_MODEL_ARGUMENT = '--rules_model';

/**
 * Where `pipeline aws setup` puts the rules the job runs (src/rules/artifact.ts): beside the job
 * script, under a versioned name, so a run started by this worker reads the rules it was built with.
 */
export const rulesObjectKey = (config: AwsConfig) => `${config.prefix}scripts/${rulesFileName()}`;

/** How many recent job runs are searched for one this stage attempt already started. */
const REATTACH_SCAN_PAGES = 3;

// ---- crawler --------------------------------------------------------------------------------------

export async function startCrawl(glue: GlueClient, config: AwsConfig): Promise<CrawlHandle> {
  const resource = `Glue crawler ${config.glueCrawler}`;
  try {
    await glue.send(new StartCrawlerCommand({ Name: config.glueCrawler }));
    return { crawlId: config.glueCrawler, alreadyRunning: false };
  } catch (err) {
    // A crawl already under way (a schedule, another run, or our own start whose reply was lost)
    // covers the same folders, so waiting for it is as good as starting one.
    if (awsErrorName(err) === 'CrawlerRunningException') return { crawlId: config.glueCrawler, alreadyRunning: true };
    return awsCall(resource, 'StartCrawler', () => Promise.reject(err));
  }
}

export async function getCrawlState(glue: GlueClient, config: AwsConfig, crawlerName: string): Promise<CrawlStatus> {
  const consoleUrl = consoleLinks.crawler(config.region, crawlerName);
  const { Crawler: c } = await awsCall(`Glue crawler ${crawlerName}`, 'GetCrawler', () => glue.send(new GetCrawlerCommand({ Name: crawlerName })));
  if (!c) return { state: 'FAILED', message: `Glue crawler ${crawlerName} was not returned by GetCrawler`, consoleUrl };
  if (c.State !== 'READY') return { state: 'RUNNING', consoleUrl, metrics: c.CrawlElapsedTime ? { elapsedMs: c.CrawlElapsedTime } : undefined };
  const last = c.LastCrawl;
  const logs = last?.LogGroup ? ` (logs: ${last.LogGroup}/${last.LogStream ?? crawlerName})` : '';
  switch (last?.Status) {
    case 'SUCCEEDED':
    case 'COMPLETED' as string: // moto's name for a finished crawl
      return { state: 'SUCCEEDED', consoleUrl, tables: await listCatalogedTables(glue, config) };
    case 'CANCELLED':
      return { state: 'CANCELLED', message: `Glue crawler ${crawlerName}: last crawl was cancelled${logs}`, consoleUrl };
    case 'FAILED':
      return { state: 'FAILED', message: `Glue crawler ${crawlerName}: ${last.ErrorMessage ?? 'crawl failed'}${logs}`, consoleUrl };
    default:
      return { state: 'FAILED', retryable: true, message: `Glue crawler ${crawlerName} is READY but has no finished crawl`, consoleUrl };
  }
}

async function listCatalogedTables(glue: GlueClient, config: AwsConfig): Promise<CatalogedTable[]> {
  const tables: Table[] = [];
  let nextToken: string | undefined;
  do {
    const page = await awsCall(`Glue database ${config.glueDatabase}`, 'GetTables', () =>
      glue.send(new GetTablesCommand({ DatabaseName: config.glueDatabase, NextToken: nextToken })),
    );
    tables.push(...(page.TableList ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  const found: CatalogedTable[] = [];
  for (const entity of ENTITIES) {
    // The converted sheets' tables are setup's, not the crawler's.
    const crawled = tables.filter((x) => !x.Name?.startsWith(SHEETS_TABLE_PREFIX));
    const t = crawled.find((x) => x.Name === entity) ?? crawled.find((x) => x.Name?.endsWith(`_${entity}`));
    if (!t) continue;
    const recordCount = Number(t.Parameters?.recordCount);
    found.push({
      entity,
      columns: (t.StorageDescriptor?.Columns ?? []).map((col) => col.Name ?? ''),
      ...(Number.isFinite(recordCount) ? { rowCount: recordCount } : {}),
    });
  }
  return found;
}

// ---- ETL job --------------------------------------------------------------------------------------

export async function startEtlRun(glue: GlueClient, config: AwsConfig, run: RunRef): Promise<EtlRunHandle> {
  const resource = `Glue job ${config.glueJob}`;
  const key = runKey(run, 'etl');
  const existing = await findRunByKey(glue, config.glueJob, key);
  if (existing) return { etlRunId: existing };
  const paths = lakePaths(config);
  const command = new StartJobRunCommand({
    JobName: config.glueJob,
    Arguments: {
      '--run_date': run.runDate,
      '--raw_path': paths.rootUri,
      '--processed_path': paths.processedUri,
      // The job refuses rules of another model in one line, naming both: run `pipeline aws setup` again.
      [RULES_ARGUMENT]: `s3://${config.bucket}/${rulesObjectKey(config)}`,
      [RULES_MODEL_ARGUMENT]: MODEL_VERSION,
      [RUN_KEY_ARGUMENT]: key,
    },
  });
  let out;
  try {
    out = await glue.send(command);
  } catch (err) {
    // Other runs of the job (a backfill) hold every slot: a wait, not a failure.
    if (awsErrorName(err) === 'ConcurrentRunsExceededException') {
      return { etlRunId: '', busy: `${resource} is at its concurrent-runs limit (${describeBriefly(err)}); waiting for a free slot` };
    }
    throw classifyAwsError(err, resource, 'StartJobRun');
  }
  if (!out.JobRunId) throw new Error(`StartJobRun on ${resource} returned no JobRunId`);
  return { etlRunId: out.JobRunId };
}

function describeBriefly(err: unknown): string {
  return ((err as Error | undefined)?.message ?? String(err)).replace(/\s+/g, ' ').trim() || 'no message';
}

async function findRunByKey(glue: GlueClient, jobName: string, key: string): Promise<string | undefined> {
  let nextToken: string | undefined;
  for (let page = 0; page < REATTACH_SCAN_PAGES; page++) {
    const out = await awsCall(`Glue job ${jobName}`, 'GetJobRuns', () => glue.send(new GetJobRunsCommand({ JobName: jobName, NextToken: nextToken, MaxResults: 100 })));
    const hit = (out.JobRuns ?? []).find((r) => r.Arguments?.[RUN_KEY_ARGUMENT] === key);
    if (hit?.Id) return hit.Id;
    nextToken = out.NextToken;
    if (!nextToken) return undefined;
  }
  return undefined;
}

const DPU_PER_WORKER: Record<string, number> = { Standard: 1, 'G.025X': 0.25, 'G.1X': 1, 'G.2X': 2, 'G.4X': 4, 'G.8X': 8, 'Z.2X': 2 };

/** Glue bills DPU-seconds; auto-scaling and flex runs report them, others are capacity x time. */
export function dpuSeconds(r: JobRun): number | undefined {
  if (r.DPUSeconds !== undefined) return r.DPUSeconds;
  const seconds = r.ExecutionTime;
  if (!seconds) return undefined;
  if (r.MaxCapacity) return r.MaxCapacity * seconds;
  if (r.NumberOfWorkers && r.WorkerType) return r.NumberOfWorkers * (DPU_PER_WORKER[r.WorkerType] ?? 1) * seconds;
  return undefined;
}

function jobState(glueState: string | undefined): JobState {
  switch (glueState) {
    case 'SUCCEEDED':
      return 'SUCCEEDED';
    case 'FAILED':
    case 'TIMEOUT':
    case 'ERROR':
    case 'EXPIRED':
      return 'FAILED';
    case 'STOPPED':
      return 'CANCELLED';
    default: // STARTING, RUNNING, STOPPING, WAITING
      return 'RUNNING';
  }
}

export async function getEtlRun(glue: GlueClient, config: AwsConfig, runId: string, logs?: CloudWatchLogsClient): Promise<{ status: EtlRunStatus; run: JobRun }> {
  const out = await awsCall(`Glue job ${config.glueJob} run ${runId}`, 'GetJobRun', () =>
    glue.send(new GetJobRunCommand({ JobName: config.glueJob, RunId: runId, PredecessorsIncluded: false })),
  );
  const r = out.JobRun ?? {};
  const state = jobState(r.JobRunState);
  const metrics: Record<string, number> = {};
  const dpu = dpuSeconds(r);
  if (dpu !== undefined) metrics.dpuSeconds = dpu;
  if (r.ExecutionTime) metrics.durationMs = r.ExecutionTime * 1000;
  const status: EtlRunStatus = { state, metrics, consoleUrl: consoleLinks.glueJobRun(config.region, config.glueJob, runId) };
  if (state !== 'RUNNING' && state !== 'SUCCEEDED') {
    const where = logs ? await glueRunErrorTail(logs, r.LogGroupName, runId) : r.LogGroupName ? ` (logs: ${r.LogGroupName}/${runId})` : '';
    status.message = `Glue job ${config.glueJob} run ${runId} ended ${r.JobRunState}: ${r.ErrorMessage ?? 'no error message'}${where}`;
  }
  return { status, run: r };
}

export async function stopEtlRun(glue: GlueClient, config: AwsConfig, runId: string): Promise<void> {
  const out = await awsCall(`Glue job ${config.glueJob} run ${runId}`, 'BatchStopJobRun', () =>
    glue.send(new BatchStopJobRunCommand({ JobName: config.glueJob, JobRunIds: [runId] })),
  );
  const error = out.Errors?.find((e) => e.JobRunId === runId)?.ErrorDetail;
  // A run that already ended cannot be stopped, and needs not be.
  if (error && !/(SUCCEEDED|FAILED|STOPPED|TIMEOUT|ERROR|not running|already)/i.test(error.ErrorMessage ?? '')) {
    throw new Error(`BatchStopJobRun on Glue job ${config.glueJob} run ${runId} failed: ${error.ErrorCode ?? ''} ${error.ErrorMessage ?? ''}`.trim());
  }
}
