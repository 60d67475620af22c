/**
 * A scriptable in-memory implementation of the activity interface for workflow tests: it records
 * every call and lets a test decide when raw files appear and how each job ends.
 *
 * It lives in tools/, beside the test server's sources, because both the tests and
 * bench/orchestration.ts (stages that finish at once) use it: production code (src/) holds no test
 * scaffolding, and benchmarks import nothing from test/ (test/infra/imports.test.ts checks both).
 */
import type {
  ChannelFailure,
  ExtractEntityResult,
  JobState,
  JobStatus,
  Notice,
  PipelineActivities,
  RawPartitionListing,
  ResultPage,
  UnreadItem,
} from '../src/activities/types';
import { ApplicationFailure } from '@temporalio/common';
import type { Entity } from '../src/shared/contract';
import { ENTITIES } from '../src/shared/contract';
import { DEFAULT_QUALITY_THRESHOLDS, judge } from '../src/shared/quality';

/** How one started job behaves: reads of RUNNING before it ends, and its final state. */
export interface JobScript {
  runningReads?: number;
  end?: JobState;
  message?: string;
  retryable?: boolean;
  /** Never ends (for cancellation tests). */
  forever?: boolean;
}

export interface FakeBackendOptions {
  /** Whether a raw partition has files on this call (default: always). */
  rawReady?: (entity: Entity, call: number) => boolean | Promise<boolean>;
  /** Script per stage and attempt (1-based in start order); missing entries succeed at once. */
  jobs?: Partial<Record<'crawl' | 'query' | 'etl' | 'load' | 'verify', JobScript[]>>;
  /** Quality values to report (default: all perfect). */
  qualityValue?: (entity: Entity, check: string) => number;
  /** Transform's loaded rows per entity; verify reports the same unless `verifyRows` differs. */
  loaded?: Record<Entity, number>;
  verifyRows?: Partial<Record<Entity, number>>;
  /** Rows of the batch that verify reports as replaced by later batches. */
  superseded?: Partial<Record<Entity, number>>;
  /** startEtlRun answers "busy" (concurrency limit) this many times before it starts a run. */
  etlBusyStarts?: number;
  /** Make publishNotification throw this many times first. */
  notifyFailures?: number;
  /** Channels publishNotification reports as failed while it still delivers (as the local notifier does). */
  failedChannels?: ChannelFailure[];
  /** What a finished crawl reports as not read. */
  unread?: UnreadItem[];
  /** What extractEntity does for an entity on its nth call (default: extracts `loaded` rows); a throw fails that call. */
  extract?: (entity: Entity, call: number) => ExtractEntityResult | Promise<ExtractEntityResult>;
  /** Awaited before each call is handled, e.g. to look at the run while one of its activities is in flight. */
  beforeCall?: (name: keyof PipelineActivities, input: unknown) => Promise<void>;
}

export interface Call {
  name: keyof PipelineActivities;
  input: unknown;
}

interface Job {
  kind: keyof NonNullable<FakeBackendOptions['jobs']>;
  script: JobScript;
  reads: number;
  stopped: boolean;
}

export class FakeBackend {
  readonly calls: Call[] = [];
  readonly notices: Notice[] = [];
  private readonly jobs = new Map<string, Job>();
  private readonly started = new Map<string, number>();
  private listCalls: Record<string, number> = {};
  private extractCalls: Record<string, number> = {};
  private notifyFailuresLeft: number;
  private etlBusyLeft: number;

  constructor(private readonly opts: FakeBackendOptions = {}) {
    this.notifyFailuresLeft = opts.notifyFailures ?? 0;
    this.etlBusyLeft = opts.etlBusyStarts ?? 0;
  }

  count(name: keyof PipelineActivities): number {
    return this.calls.filter((c) => c.name === name).length;
  }

  private loaded(): Record<Entity, number> {
    return this.opts.loaded ?? { customers: 10, products: 5, orders: 40 };
  }

  private start(kind: Job['kind'], token: string): string {
    // The same token (a retried start) reattaches to the same job, as real backends do.
    const existing = [...this.jobs.entries()].find(([id]) => id.startsWith(`${kind}:${token}:`));
    if (existing) return existing[0];
    const n = (this.started.get(kind) ?? 0) + 1;
    this.started.set(kind, n);
    const script = this.opts.jobs?.[kind]?.[n - 1] ?? {};
    const id = `${kind}:${token}:${n}`;
    this.jobs.set(id, { kind, script, reads: 0, stopped: false });
    return id;
  }

  private read(id: string): JobStatus {
    const job = this.jobs.get(id);
    if (!job) throw ApplicationFailure.nonRetryable(`unknown job ${id}`, 'MissingResource');
    job.reads += 1;
    if (job.stopped) return { state: 'CANCELLED', message: 'stopped' };
    if (job.script.forever || job.reads <= (job.script.runningReads ?? 0)) return { state: 'RUNNING', metrics: { progress: 0.5 } };
    const state = job.script.end ?? 'SUCCEEDED';
    return { state, message: job.script.message, retryable: job.script.retryable };
  }

  activities(): PipelineActivities {
    const record = <K extends keyof PipelineActivities>(name: K, input: unknown) => this.calls.push({ name, input });
    const token = (run: { workflowId: string; stage: string; stageAttempt: number }) =>
      `${run.workflowId}/${run.stage}/${run.stageAttempt}`;
    const acts: PipelineActivities = {
      extractEntity: async (input) => {
        record('extractEntity', input);
        const n = (this.extractCalls[input.entity] = (this.extractCalls[input.entity] ?? 0) + 1);
        if (this.opts.extract) return this.opts.extract(input.entity, n);
        const key = `raw/${input.entity}/${input.run.runDate}/extract-${input.entity}.csv.gz`;
        const rows = this.loaded()[input.entity];
        return { entity: input.entity, extracted: true, source: `table public.${input.entity}`, key, rows, bytes: rows * 20, columns: [] };
      },
      listRawPartition: async (input) => {
        record('listRawPartition', input);
        const n = (this.listCalls[input.entity] = (this.listCalls[input.entity] ?? 0) + 1);
        const ready = this.opts.rawReady ? await this.opts.rawReady(input.entity, n) : true;
        const listing: RawPartitionListing = {
          entity: input.entity,
          prefix: `raw/${input.entity}/${input.run.runDate}/`,
          objects: ready ? [{ key: `raw/${input.entity}/${input.run.runDate}/${input.entity}.csv`, size: 100 }] : [],
          ignored: [],
        };
        return listing;
      },
      startCrawl: async (input) => {
        record('startCrawl', input);
        return { crawlId: this.start('crawl', token(input.run)), alreadyRunning: false };
      },
      getCrawlState: async (input) => {
        record('getCrawlState', input);
        const s = this.read(input.crawlId);
        if (s.state !== 'SUCCEEDED') return s;
        const tables = ENTITIES.map((entity) => ({ entity, columns: [], rowCount: this.loaded()[entity] }));
        return { ...s, tables, ...(this.opts.unread ? { unread: this.opts.unread } : {}) };
      },
      startQuery: async (input) => {
        record('startQuery', input);
        return { queryId: this.start('query', token(input.run)) };
      },
      getQueryState: async (input) => {
        record('getQueryState', input);
        return this.read(input.queryId);
      },
      getQueryResults: async (input) => {
        record('getQueryResults', input);
        const rows: ResultPage['rows'] = [];
        for (const entity of ENTITIES) {
          for (const check of ['row_count', 'completeness', 'validity', 'key_uniqueness'] as const) {
            const value = this.opts.qualityValue?.(entity, check) ?? (check === 'row_count' ? this.loaded()[entity] : 1);
            const r = judge({ entity, check, value }, DEFAULT_QUALITY_THRESHOLDS);
            rows.push([r.entity, r.check, r.value, r.threshold, r.passed]);
          }
        }
        return {
          columns: ['entity', 'check', 'value', 'threshold', 'passed'].map((name) => ({ name, type: 'varchar' })),
          rows,
        };
      },
      stopQuery: async (input) => {
        record('stopQuery', input);
        this.jobs.get(input.queryId)!.stopped = true;
      },
      startEtlRun: async (input) => {
        record('startEtlRun', input);
        if (this.etlBusyLeft > 0) {
          this.etlBusyLeft -= 1;
          return { etlRunId: '', busy: 'the ETL job is at its concurrent-runs limit' };
        }
        return { etlRunId: this.start('etl', token(input.run)) };
      },
      getEtlRunState: async (input) => {
        record('getEtlRunState', input);
        const s = this.read(input.etlRunId);
        if (s.state !== 'SUCCEEDED') return s;
        const metrics: Record<string, number> = { 'orders.revenue': 1234.5 };
        for (const [e, n] of Object.entries(this.loaded())) {
          Object.assign(metrics, { [`${e}.read`]: n + 1, [`${e}.loaded`]: n, [`${e}.rejected`]: 1, [`${e}.duplicates`]: 0 });
        }
        return { ...s, metrics };
      },
      stopEtlRun: async (input) => {
        record('stopEtlRun', input);
        this.jobs.get(input.etlRunId)!.stopped = true;
      },
      startWarehouseStatements: async (input) => {
        record('startWarehouseStatements', input);
        return { statementId: this.start(input.operation, token(input.run)) };
      },
      getStatementState: async (input) => {
        record('getStatementState', input);
        const s = this.read(input.statementId);
        return { ...s, hasResultSet: input.statementId.startsWith('verify') };
      },
      getStatementResult: async (input) => {
        record('getStatementResult', input);
        const loaded = this.loaded();
        return {
          columns: ['entity', 'warehouse_rows', 'superseded_rows', 'revenue'].map((name) => ({ name, type: 'varchar' })),
          rows: ENTITIES.map((e) => {
            const superseded = this.opts.superseded?.[e] ?? 0;
            return [e, this.opts.verifyRows?.[e] ?? loaded[e] - superseded, superseded, e === 'orders' ? 1234.5 : null];
          }),
        };
      },
      cancelStatement: async (input) => {
        record('cancelStatement', input);
        this.jobs.get(input.statementId)!.stopped = true;
      },
      publishNotification: async (notice) => {
        record('publishNotification', notice);
        if (this.notifyFailuresLeft > 0) {
          this.notifyFailuresLeft -= 1;
          throw new Error('notification channel unavailable');
        }
        this.notices.push(notice);
        const failures = this.opts.failedChannels;
        return { messageId: `msg-${this.notices.length}`, channels: ['memory'], ...(failures ? { failures } : {}) };
      },
    };
    const before = this.opts.beforeCall;
    if (!before) return acts;
    const gated = {} as Record<string, (input: unknown) => Promise<unknown>>;
    for (const [name, fn] of Object.entries(acts) as [keyof PipelineActivities, (input: unknown) => Promise<unknown>][]) {
      gated[name] = async (input) => {
        await before(name, input);
        return fn(input);
      };
    }
    return gated as unknown as PipelineActivities;
  }
}
