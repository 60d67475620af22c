/**
 * The backend-neutral activity interface. The workflow only sees these signatures; the worker binds
 * the `local` (lake folder + DuckDB) or `aws` (S3, Glue, Athena, Redshift Data, SNS) implementation.
 *
 * Every activity does one external call (or its local equivalent) and returns plain, serialisable data.
 * Long work is started by one activity and observed by another, so the workflow waits with durable
 * timers between reads instead of holding an activity open for hours.
 */
import type { Entity, StageName } from '../shared/contract';
import type { QualityResult, QualityThresholds } from '../shared/quality';
import type { Cell, ResultPage, VerifyRow } from '../shared/results';
import type { UnreadItem } from '../shared/unread';

export type { Cell, ResultPage, UnreadItem, VerifyRow };

/**
 * Identifies the run a call belongs to. Backends derive idempotency tokens from it, so a retried
 * activity reattaches to the work it started instead of starting a second copy; `stageAttempt`
 * grows only when an operator reruns a stage (or the workflow restarts lost work), which is the only
 * time new external work may start.
 */
export interface RunRef {
  runDate: string; // YYYY-MM-DD
  workflowId: string;
  /**
   * The workflow execution (its first run id): a second `pipeline run` of the same date reuses the
   * workflow id, and must start its own work rather than reattach to the previous run's. Absent only
   * in refs scheduled by workers that predate it.
   */
  executionId?: string;
  stage: StageName;
  stageAttempt: number; // 1-based
}

/** Lifecycle of any external job: crawl, query, ETL run, warehouse statement. */
export type JobState = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export interface JobStatus {
  state: JobState;
  /** Why it failed or was cancelled: the backend's own message, with log lines where available. */
  message?: string;
  /**
   * A FAILED job that may simply be started again (for example a local job lost to a worker restart,
   * or Glue's concurrent-runs limit); the workflow starts a new attempt instead of asking an operator.
   */
  retryable?: boolean;
  /** Numbers worth showing: rows, bytes scanned, DPU-seconds, progress (0..1 under `progress`). */
  metrics?: Record<string, number>;
  /** A link to the job in the backend's console, when there is one. */
  consoleUrl?: string;
}

// ---- extract (optional) ---------------------------------------------------------------------------

export interface ExtractEntityInput {
  run: RunRef;
  entity: Entity;
}

/**
 * One entity's rows of the run date, from the worker's PostgreSQL source, published as one gzip CSV
 * in the raw partition (`extract-<entity>.csv.gz`, replacing the previous extract of that date).
 * `source` says where they came from (`table public.orders`, `query`), never the connection.
 */
export type ExtractEntityResult =
  | { entity: Entity; extracted: true; source: string; key: string; rows: number; bytes: number; columns: string[] }
  | { entity: Entity; extracted: false; reason: string };

// ---- awaitRawData ---------------------------------------------------------------------------------

export interface ListRawPartitionInput {
  run: RunRef;
  entity: Entity;
}

export interface RawObject {
  key: string; // relative to the lake root / bucket prefix, e.g. raw/orders/2025-10-27/orders.csv
  size: number;
  lastModified?: string; // ISO timestamp
}

export interface RawPartitionListing {
  entity: Entity;
  prefix: string;
  objects: RawObject[]; // only files of a supported kind, in name order
  ignored: string[]; // keys present but of an unsupported kind
}

// ---- catalog --------------------------------------------------------------------------------------

export interface StartCrawlInput {
  run: RunRef;
}

export interface CrawlHandle {
  crawlId: string; // crawler name (aws) or catalog run id (local)
  /** True when the crawler was already running and we are waiting for that crawl instead. */
  alreadyRunning: boolean;
}

export interface CrawlStateInput {
  run: RunRef;
  crawlId: string;
}

export interface CatalogedTable {
  entity: Entity;
  columns: string[];
  rowCount?: number;
  files?: number;
}

export interface CrawlStatus extends JobStatus {
  tables?: CatalogedTable[];
  /** What the run's partitions hold that was not read (other kinds, folders, links, skipped sheets, empty files). */
  unread?: UnreadItem[];
}

// ---- validate (and any other named query) ---------------------------------------------------------

/** Queries are named, not written by the workflow: each backend owns its SQL dialect. */
export type QueryName = 'quality_checks';

export interface StartQueryInput {
  run: RunRef;
  query: QueryName;
  thresholds: QualityThresholds;
}

export interface QueryHandle {
  queryId: string;
}

export interface QueryRef {
  run: RunRef;
  queryId: string;
}

export interface QueryResultsInput extends QueryRef {
  nextToken?: string;
}

// ---- transform ------------------------------------------------------------------------------------

export interface StartEtlRunInput {
  run: RunRef;
}

export interface EtlRunHandle {
  /** Empty when `busy` is set. */
  etlRunId: string;
  /**
   * Nothing was started because the backend is at its concurrency limit (Glue's MaxConcurrentRuns,
   * common during a backfill): the workflow waits with a timer and asks again, within the stage's timeout.
   */
  busy?: string;
}

export interface EtlRunRef {
  run: RunRef;
  etlRunId: string;
}

/**
 * Metrics an ETL run reports when it has SUCCEEDED, flat for easy display:
 * `${entity}.read`, `${entity}.loaded`, `${entity}.rejected`, `${entity}.duplicates` for every entity,
 * `orders.revenue`, and backend extras (`dpuSeconds`, `durationMs`).
 */
export type EtlRunStatus = JobStatus;

// ---- load / verify --------------------------------------------------------------------------------

/** Named warehouse operations; each backend owns the SQL. */
export type WarehouseOperation = 'load' | 'verify';

export interface WarehouseStatementsInput {
  run: RunRef;
  operation: WarehouseOperation;
  /** ETL run whose output is loaded (load) or checked (verify). */
  etlRunId?: string;
}

export interface StatementHandle {
  statementId: string;
}

export interface StatementRef {
  run: RunRef;
  statementId: string;
}

export interface StatementStatus extends JobStatus {
  rowsAffected?: number;
  hasResultSet?: boolean;
}

// ---- notify ---------------------------------------------------------------------------------------

export type NoticeKind = 'succeeded' | 'failed' | 'stage_failed' | 'sensor_late' | 'cancelled' | 'quality_failed';

export interface StageSummary {
  stage: StageName;
  state: string;
  attempts: number;
  durationMs?: number;
  message?: string;
  metrics?: Record<string, number>;
}

export interface Notice {
  /** Stable key: the same stage outcome is never published twice, even across reruns and retries. */
  key: string;
  kind: NoticeKind;
  runDate: string;
  workflowId: string;
  runId: string;
  namespace: string;
  subject: string; // one line, short enough for SNS (< 100 chars)
  text: string; // readable body
  stages: StageSummary[];
  quality?: QualityResult[];
  /** What the run's partitions hold that was not read, so a partial day never passes unremarked. */
  unread?: UnreadItem[];
}

export interface ChannelFailure {
  /** The channel, as in `channels`: `webhook:<host>`, `outbox:<path>`, `console`. */
  channel: string;
  /** Why it failed after its retries (redacted: never a credential). */
  error: string;
  attempts: number;
}

export interface PublishResult {
  messageId: string;
  /** Where it went: `sns:<topic>`, `console`, `outbox:<path>`, `webhook:<host>`. */
  channels: string[];
  /** Channels that could not deliver it; the notice still counts as published when another one did. */
  failures?: ChannelFailure[];
}

// ---- the interface, by stage ---------------------------------------------------------------------
// Each stage's activities: the workflow's runner in src/workflows/stages.ts, the local twin in
// src/activities/local/<stage>.ts and the AWS twin in src/activities/aws/<stage>.ts. The activity
// type names are those of the recorded histories (test/histories), so they stay as they are.

/** extract (optional): the day's rows copied from the shop's PostgreSQL into the raw partitions. */
export interface ExtractActivities {
  extractEntity(input: ExtractEntityInput): Promise<ExtractEntityResult>;
}

/** awaitRawData (the sensor): are the day's raw files there? */
export interface AwaitRawDataActivities {
  listRawPartition(input: ListRawPartitionInput): Promise<RawPartitionListing>;
}

/** catalog: the raw partitions read and described (local: bronze; aws: the Glue crawler). */
export interface CatalogActivities {
  startCrawl(input: StartCrawlInput): Promise<CrawlHandle>;
  getCrawlState(input: CrawlStateInput): Promise<CrawlStatus>;
}

/** validate: the quality gate's query over the batch (local: DuckDB; aws: Athena). */
export interface ValidateActivities {
  startQuery(input: StartQueryInput): Promise<QueryHandle>;
  getQueryState(input: QueryRef): Promise<JobStatus>;
  getQueryResults(input: QueryResultsInput): Promise<ResultPage>;
  stopQuery(input: QueryRef): Promise<void>;
}

/** transform: silver, gold and rejects from the batch (local: DuckDB; aws: the Glue job). */
export interface TransformActivities {
  startEtlRun(input: StartEtlRunInput): Promise<EtlRunHandle>;
  getEtlRunState(input: EtlRunRef): Promise<EtlRunStatus>;
  stopEtlRun(input: EtlRunRef): Promise<void>;
}

/** load and verify: statements on the warehouse, `operation` says which (local: DuckDB; aws: Redshift). */
export interface LoadActivities {
  startWarehouseStatements(input: WarehouseStatementsInput): Promise<StatementHandle>;
  getStatementState(input: StatementRef): Promise<StatementStatus>;
  getStatementResult(input: StatementRef & { nextToken?: string }): Promise<ResultPage>;
  cancelStatement(input: StatementRef): Promise<void>;
}

/** notify: one notice to the operator's channels (local: outbox and webhook; aws: SNS). */
export interface NotifyActivities {
  publishNotification(notice: Notice): Promise<PublishResult>;
}

export interface PipelineActivities
  extends
    ExtractActivities,
    AwaitRawDataActivities,
    CatalogActivities,
    ValidateActivities,
    TransformActivities,
    LoadActivities,
    NotifyActivities {}

export type ActivityName = keyof PipelineActivities;
