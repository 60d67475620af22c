/**
 * The `local` backend: a lake folder and one DuckDB warehouse file play crawler, query engine, ETL
 * engine and warehouse. Long stages run as background jobs (see jobs.ts) that the workflow starts
 * with one activity and polls with another, exactly as it does Glue, Athena and Redshift.
 */
import { asyncLocalStorage } from '@temporalio/activity';
import type { ExtractConfig, LocalConfig } from '../../config';
import { createLocalNotifier } from '../notify/local';
import type {
  CrawlHandle,
  CrawlStateInput,
  CrawlStatus,
  EtlRunHandle,
  EtlRunRef,
  EtlRunStatus,
  ExtractEntityInput,
  ExtractEntityResult,
  JobStatus,
  ListRawPartitionInput,
  Notice,
  PipelineActivities,
  PublishResult,
  QueryHandle,
  QueryRef,
  QueryResultsInput,
  RawPartitionListing,
  ResultPage,
  StartCrawlInput,
  StartEtlRunInput,
  StartQueryInput,
  StatementHandle,
  StatementRef,
  StatementStatus,
  WarehouseStatementsInput,
} from '../types';
import { badConfig, missingResource } from '../errors';
import type { CatalogedTable, UnreadItem } from '../types';
import type { WarehouseWrapper } from './engine';
import { checkRunDate, LocalEngine } from './engine';
import { extractToLake } from './extract';
import type { JobContext, JobProgressListener, JobRecord } from './jobs';
import { JobStore } from './jobs';
import { qualityPage } from './validate';

export { LocalEngine } from './engine';
export { JobStore } from './jobs';
export type { WarehouseWrapper } from './engine';
export type { JobKind, JobProgressListener, JobRecord } from './jobs';
export type { Sql } from './warehouse';
export { VOLATILE_COLUMNS, WAREHOUSE_TABLES } from './schema';

export interface LocalActivities extends PipelineActivities {
  /** Waits for background jobs to settle and closes the warehouse. */
  close(): Promise<void>;
}

/**
 * The local backend: its activities (what the worker registers, with `close` for the worker to
 * call) and, apart from them, the engine underneath, for tools and tests that time or inspect stages
 * one by one. The engine is closed by `activities.close()`.
 */
export interface LocalBackend {
  activities: LocalActivities;
  engine: LocalEngine;
}

export interface LocalActivitiesOptions {
  webUiUrl: string;
  /** The optional extract stage's PostgreSQL source; without it, a run that asks for extract fails it with one line. */
  extract?: ExtractConfig;
  /** A RUNNING job whose owner has not heartbeaten for this long reads FAILED (retryable). */
  staleAfterMs?: number;
  /** How often a running job's file is refreshed. */
  heartbeatMs?: number;
  /**
   * How long a state read waits for a job this worker runs to end before it answers RUNNING
   * (default 2 s): quick stages are seen done at once, and work queued behind other runs' turns
   * is read a few times a minute instead of every second.
   */
  readWaitMs?: number;
  /** How long a stage waits for the warehouse file while another process holds it (default 60 s). */
  lockWaitMs?: number;
  /**
   * Called (synchronously, between statements) each time a background job reports progress (0..1),
   * with the job's id and kind: for progress logging or metrics. Keep it quick; it must not throw.
   */
  onJobProgress?: JobProgressListener;
  /**
   * Wraps the warehouse connection a stage's write turn runs on, with the turn's label
   * (`load of 2025-10-27 (daily-pipeline-2025-10-27)`, `transform of ...`): for statement tracing,
   * timing, or fault injection. The wrapper must pass every call through to `db`.
   */
  wrapWarehouse?: WarehouseWrapper;
  /** From how many bronze rows a batch is judged as a large one (see LocalEngineOptions). */
  largeBatchRows?: number;
}

const PAGE_SIZE = 1000;

/** Temporal heartbeat when called inside an activity; a no-op when tests call the methods directly. */
function heartbeatIfInActivity(details: unknown): void {
  const ctx = asyncLocalStorage.getStore();
  // Stage calls run as local activities, which the server does not track: nothing to heartbeat to.
  if (ctx && !ctx.info.isLocal) ctx.heartbeat(details);
}

function status(record: JobRecord): JobStatus {
  const out: JobStatus = { state: record.state, metrics: record.metrics };
  if (record.message) out.message = record.message;
  if (record.retryable) out.retryable = true;
  return out;
}

function page(result: ResultPage, nextToken: string | undefined): ResultPage {
  const offset = nextToken ? Number(nextToken) : 0;
  if (!Number.isInteger(offset) || offset < 0) throw badConfig(`result token ${JSON.stringify(nextToken)} is not one this backend issued`);
  const rows = result.rows.slice(offset, offset + PAGE_SIZE);
  const next = offset + PAGE_SIZE < result.rows.length ? String(offset + PAGE_SIZE) : undefined;
  return next ? { columns: result.columns, rows, nextToken: next } : { columns: result.columns, rows };
}

function hooksOf(ctx: JobContext, work: string, runDate: string) {
  return {
    progress: (f: number) => ctx.progress(f),
    checkCancelled: () => ctx.checkCancelled(),
    onActive: () => ctx.markActive(),
    work,
    runDate,
  };
}

interface CatalogResult {
  tables: CatalogedTable[];
  unread?: UnreadItem[];
}

interface StatementResult {
  operation: 'load' | 'verify';
  rowsAffected?: number;
  page?: ResultPage;
}

/** The local backend's activities (see createLocalBackend for the engine beside them). */
export function createLocalActivities(config: LocalConfig, options: LocalActivitiesOptions): LocalActivities {
  return createLocalBackend(config, options).activities;
}

export function createLocalBackend(config: LocalConfig, options: LocalActivitiesOptions): LocalBackend {
  const engine = new LocalEngine(config, {
    lockWaitMs: options.lockWaitMs,
    wrapWarehouse: options.wrapWarehouse,
    largeBatchRows: options.largeBatchRows,
  });
  const jobs = new JobStore({
    dir: `${config.warehousePath}.jobs`,
    staleAfterMs: options.staleAfterMs ?? 60_000,
    heartbeatMs: options.heartbeatMs ?? 2_000,
    interrupt: () => void engine.interrupt(),
    onProgress: options.onJobProgress,
  });
  let notifier: ReturnType<typeof createLocalNotifier> | undefined;

  const requireFinished = <R>(id: string, what: string): JobRecord<R> => {
    const record = jobs.require<R>(id, what);
    if (record.state !== 'SUCCEEDED')
      throw missingResource(`${what} ${id} has no results: it is ${record.state}${record.message ? ` (${record.message})` : ''}`);
    return record;
  };

  const readWaitMs = options.readWaitMs ?? 2_000;
  /** A job's state, after waiting up to readWaitMs for it to end (see LocalActivitiesOptions.readWaitMs). */
  async function readJob<R>(id: string, what: string) {
    await jobs.settled(id, readWaitMs, asyncLocalStorage.getStore()?.cancellationSignal);
    return jobs.require<R>(id, what);
  }

  const activities: LocalActivities = {
    async extractEntity(input: ExtractEntityInput): Promise<ExtractEntityResult> {
      checkRunDate(input.run.runDate);
      return extractToLake(engine.lake, options.extract, input);
    },

    async listRawPartition({ run, entity }: ListRawPartitionInput): Promise<RawPartitionListing> {
      checkRunDate(run.runDate);
      return engine.lake.listing(entity, run.runDate);
    },

    async startCrawl({ run }: StartCrawlInput): Promise<CrawlHandle> {
      const id = JobStore.idFor('crawl', run);
      const existing = jobs.get(id);
      if (existing) return { crawlId: id, alreadyRunning: existing.state === 'RUNNING' };
      await engine.ready();
      // Headers are checked now, so a bad file fails this activity at once, naming file and columns.
      const plans = await engine.planCatalog(run.runDate);
      const { existed, record } = jobs.start<CatalogResult>({ id, kind: 'crawl', run, label: `catalog ${id}` }, async (ctx) => {
        const tables = await engine.catalog(
          run.runDate,
          id,
          plans,
          hooksOf(ctx, `catalog of ${run.runDate} (${run.workflowId})`, run.runDate),
        );
        const metrics: Record<string, number> = {};
        for (const t of tables) {
          metrics[`${t.entity}.rows`] = t.rowCount ?? 0;
          metrics[`${t.entity}.files`] = t.files ?? 0;
        }
        const unread = plans.flatMap((p) => p.unread);
        return { metrics, result: { tables, unread } };
      });
      return { crawlId: id, alreadyRunning: existed && record.state === 'RUNNING' };
    },

    async getCrawlState({ crawlId }: CrawlStateInput): Promise<CrawlStatus> {
      const record = await readJob<CatalogResult>(crawlId, 'local catalog run');
      heartbeatIfInActivity(record.metrics.progress);
      const out: CrawlStatus = status(record);
      if (record.result) {
        out.tables = record.result.tables;
        if (record.result.unread?.length) out.unread = record.result.unread;
      }
      return out;
    },

    async startQuery({ run, query, thresholds }: StartQueryInput): Promise<QueryHandle> {
      if (query !== 'quality_checks') throw badConfig(`the local backend has no query named ${JSON.stringify(query)}`);
      checkRunDate(run.runDate);
      const id = JobStore.idFor('query', run, 'quality');
      await engine.ready();
      jobs.start<ResultPage>({ id, kind: 'query', run, label: `quality query ${id}` }, async (ctx) => {
        const results = await engine.quality(
          run.runDate,
          thresholds,
          id,
          hooksOf(ctx, `validate of ${run.runDate} (${run.workflowId})`, run.runDate),
        );
        const failed = results.filter((r) => !r.passed).length;
        return { result: qualityPage(results), metrics: { checks: results.length, failedChecks: failed } };
      });
      return { queryId: id };
    },

    async getQueryState({ queryId }: QueryRef): Promise<JobStatus> {
      const record = await readJob(queryId, 'local query');
      heartbeatIfInActivity(record.metrics.progress);
      return status(record);
    },

    async getQueryResults({ queryId, nextToken }: QueryResultsInput): Promise<ResultPage> {
      const record = requireFinished<ResultPage>(queryId, 'local query');
      return page(record.result!, nextToken);
    },

    async stopQuery({ queryId }: QueryRef): Promise<void> {
      jobs.cancel(queryId);
    },

    async startEtlRun({ run }: StartEtlRunInput): Promise<EtlRunHandle> {
      checkRunDate(run.runDate);
      const id = JobStore.idFor('etl', run);
      await engine.ready();
      jobs.start({ id, kind: 'etl', run, label: `local ETL run ${id}` }, async (ctx) => {
        const started = Date.now();
        const out = await engine.transform(run.runDate, id, hooksOf(ctx, `transform of ${run.runDate} (${run.workflowId})`, run.runDate));
        return { metrics: { ...out.metrics, durationMs: Date.now() - started }, result: { folders: out.folders } };
      });
      heartbeatIfInActivity(id);
      return { etlRunId: id };
    },

    async getEtlRunState({ etlRunId }: EtlRunRef): Promise<EtlRunStatus> {
      const record = await readJob(etlRunId, 'local ETL run');
      heartbeatIfInActivity(record.metrics.progress);
      return status(record);
    },

    async stopEtlRun({ etlRunId }: EtlRunRef): Promise<void> {
      jobs.cancel(etlRunId);
    },

    async startWarehouseStatements({ run, operation, etlRunId }: WarehouseStatementsInput): Promise<StatementHandle> {
      if (operation !== 'load' && operation !== 'verify')
        throw badConfig(`the local warehouse has no operation named ${JSON.stringify(operation)}`);
      checkRunDate(run.runDate);
      const id = JobStore.idFor('statement', run, operation);
      await engine.ready();
      jobs.start<StatementResult>({ id, kind: 'statement', operation, run, label: `warehouse ${operation} ${id}` }, async (ctx) => {
        if (operation === 'verify') {
          const result = await engine.verify(run.runDate, hooksOf(ctx, `verify of ${run.runDate} (${run.workflowId})`, run.runDate));
          return { result: { operation, page: result } };
        }
        const loaded = await engine.load(
          { runDate: run.runDate, etlRunId, statementId: id, workflowId: run.workflowId },
          hooksOf(ctx, `load of ${run.runDate} (${run.workflowId})`, run.runDate),
        );
        return { metrics: loaded.metrics, result: { operation, rowsAffected: loaded.rowsAffected } };
      });
      return { statementId: id };
    },

    async getStatementState({ statementId }: StatementRef): Promise<StatementStatus> {
      const record = await readJob<StatementResult>(statementId, 'local warehouse statement');
      heartbeatIfInActivity(record.metrics.progress);
      const out: StatementStatus = status(record);
      if (record.result?.rowsAffected !== undefined) out.rowsAffected = record.result.rowsAffected;
      // What the statement runs is recorded with the job (a result repeats it; files of earlier releases have only that).
      out.hasResultSet = (record.operation ?? record.result?.operation) === 'verify';
      return out;
    },

    async getStatementResult({ statementId, nextToken }: StatementRef & { nextToken?: string }): Promise<ResultPage> {
      const record = requireFinished<StatementResult>(statementId, 'local warehouse statement');
      if (!record.result?.page)
        throw missingResource(`local warehouse statement ${statementId} (${record.result?.operation ?? 'unknown'}) has no result set`);
      return page(record.result.page, nextToken);
    },

    async cancelStatement({ statementId }: StatementRef): Promise<void> {
      jobs.cancel(statementId);
    },

    async publishNotification(notice: Notice): Promise<PublishResult> {
      notifier ??= createLocalNotifier(config, { webUiUrl: options.webUiUrl });
      return notifier.publishNotification(notice);
    },

    async close(): Promise<void> {
      await jobs.settle();
      jobs.close();
      await engine.close();
    },
  };
  return { activities, engine };
}
