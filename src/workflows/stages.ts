/**
 * One runner per stage. Each starts external work with one activity, then reads its state with
 * another between durable timers until it ends or the stage's give-up time passes. Work that was
 * started is stopped when the stage is cancelled, interrupted or gives up.
 */
import { ActivityFailure, msToNumber } from '@temporalio/common';
import {
  CancellationScope,
  executeChild,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { ActivityName, EtlRunHandle, JobStatus, PipelineActivities, RawPartitionListing, RunRef } from '../activities/types';
import type { Entity, StageName } from '../shared/contract';
import { ENTITIES } from '../shared/contract';
import { gatePassed } from '../shared/quality';
import { unreadSummary } from '../shared/unread';
import { pageToRecords, toQualityResults, toVerifyRows, verifyProblems } from '../shared/results';
import type { NoticeKind } from '../activities/types';
import type { PipelineOptions, StageOptions, StageStatus } from './definitions';
import type { RunBook } from './run-book';
import { nowMs } from './run-book';
import type { SensorResult } from './sensor';
import { awaitRawDataSensor } from './sensor';

/** A stage that ended badly; `noticeKind` picks the notice the operator gets. */
export class StageError extends Error {
  constructor(
    message: string,
    readonly noticeKind: NoticeKind = 'stage_failed',
  ) {
    super(message);
    this.name = 'StageError';
  }
}

export interface StageContext {
  book: RunBook;
  options: PipelineOptions;
  /** Set by transform, read by load and verify. */
  etlRunId?: string;
  transformMetrics?: Record<string, number>;
}

type Acts = ReturnType<typeof proxyActivities<PipelineActivities>>;

/**
 * Runs started before this patch made every stage call but the state reads a regular activity and
 * always started the raw-data sensor child. Since, every call a stage makes (start, read, stop, fetch
 * results: each one short and idempotent) is a local activity, and the run lists the raw partitions
 * itself before starting the sensor, which it then does only for what is missing. A regular activity
 * costs the history 3 events and the run a workflow task; the child, ~25 events: together more than
 * half of a quick run's history, and of what a backfill of quick days costs the server and worker.
 */
export const LOCAL_CALLS_PATCH = 'stage-calls-as-local-activities';

/**
 * Every stage call is a local activity (see LOCAL_CALLS_PATCH); runs from before it keep their
 * regular activities for starting, stopping and reading results. Local activities still show in the
 * Web UI, as markers with the same summaries.
 */
function activitiesFor(o: Pick<StageOptions, 'activityTimeout' | 'retry'>): Acts {
  const local = proxyLocalActivities<PipelineActivities>({ startToCloseTimeout: o.activityTimeout, retry: o.retry });
  if (patched(LOCAL_CALLS_PATCH)) return local;
  const remote = proxyActivities<PipelineActivities>({ startToCloseTimeout: o.activityTimeout, retry: o.retry });
  // The SDK's proxies resolve names lazily, so route by name rather than copying members.
  return new Proxy({} as Acts, { get: (_target, name) => (isStateRead(name) ? local : remote)[name as keyof Acts] });
}

/** The state reads, run as local activities; every other activity is a regular one. */
const STATE_READS: ReadonlySet<ActivityName> = new Set<ActivityName>([
  'getCrawlState',
  'getQueryState',
  'getEtlRunState',
  'getStatementState',
]);

function isStateRead(name: string | symbol): boolean {
  return (STATE_READS as ReadonlySet<string | symbol>).has(name);
}

function refOf(ctx: StageContext, stage: StageName): RunRef {
  const info = workflowInfo();
  return {
    runDate: ctx.book.status.runDate,
    workflowId: info.workflowId,
    executionId: info.firstExecutionRunId,
    stage,
    stageAttempt: ctx.book.stage(stage).attempts,
  };
}

/** Starting calls are not cancellable: we must learn the id of what we started so we can stop it. */
function startUncancellable<T>(fn: () => Promise<T>): Promise<T> {
  return CancellationScope.nonCancellable(fn);
}

function mergeMetrics(s: StageStatus, metrics: Record<string, number> | undefined, prefix = ''): void {
  if (!metrics) return;
  for (const [k, v] of Object.entries(metrics)) s.metrics[prefix + k] = v;
}

/**
 * Runs started before this patch waited the full `pollInterval` before every state read (and every
 * busy start) after the first, so work of a second or two cost a whole interval per stage.
 */
export const ADAPTIVE_POLLING_PATCH = 'adaptive-state-polling';

/**
 * The waits between one stage's state reads (or busy starts): `firstPollInterval`, then doubling,
 * capped at `pollInterval` (defaults 1, 2, 4, 8, 16, 30, 30 ... s at a 30 s interval). Quick work is
 * seen within a second or two; long work is read at the stage's interval after a few fast reads.
 * The patch is asked for at the first wait only, so work that is over at the first read (the usual
 * case for instant stages) records no marker.
 */
function pollWaits(o: StageOptions): () => number {
  const intervalMs = msToNumber(o.pollInterval);
  let nextMs: number | undefined;
  return () => {
    nextMs ??= patched(ADAPTIVE_POLLING_PATCH) ? Math.min(intervalMs, msToNumber(o.firstPollInterval)) : intervalMs;
    const waitMs = nextMs;
    nextMs = Math.min(intervalMs, nextMs * 2);
    return waitMs;
  };
}

/**
 * Reads state until the work is no longer RUNNING. On cancellation, give-up or a failing read, the
 * work is stopped (best effort, never cancelled itself) before the error goes on.
 */
async function watch<T extends JobStatus>(
  s: StageStatus,
  o: StageOptions,
  label: string,
  read: () => Promise<T>,
  stop?: () => Promise<void>,
): Promise<T> {
  const started = nowMs();
  const timeoutMs = msToNumber(o.timeout);
  const nextWait = pollWaits(o);
  let polls = 0;
  try {
    for (;;) {
      const state = await read();
      polls += 1;
      s.metrics.polls = (s.metrics.polls ?? 0) + 1;
      if (state.metrics?.progress !== undefined) s.metrics.progress = state.metrics.progress;
      if (state.state !== 'RUNNING') return state;
      const waited = nowMs() - started;
      if (waited >= timeoutMs) throw new StageError(`${label} still running after ${o.timeout} (${polls} state reads); stopped it`);
      await sleep(Math.max(1, Math.min(nextWait(), timeoutMs - waited)));
    }
  } catch (err) {
    if (stop) {
      await CancellationScope.nonCancellable(async () => {
        try {
          await stop();
        } catch (stopErr) {
          s.message = `could not stop ${label}: ${(stopErr as Error).message}`;
          log.warn(`could not stop ${label}`, { error: (stopErr as Error).message });
        }
      });
    }
    throw err;
  }
}

function failureText(label: string, st: JobStatus): string {
  const parts = [`${label} ended ${st.state}`];
  if (st.message) parts.push(st.message);
  if (st.consoleUrl) parts.push(`see ${st.consoleUrl}`);
  return parts.join(': ');
}

/**
 * Copies each entity's rows of the day from the worker's PostgreSQL source into its raw partition,
 * the three at once, one activity each (an entity the worker has no source for is left to arrive
 * by other means). Every entity is tried before the stage fails, so one message names each failure.
 */
async function extract(ctx: StageContext, s: StageStatus): Promise<void> {
  const o = ctx.options.stages.extract;
  const a = proxyActivities<PipelineActivities>({
    startToCloseTimeout: o.activityTimeout,
    heartbeatTimeout: o.heartbeatTimeout,
    retry: o.retry,
  });
  const run = refOf(ctx, 'extract');
  const outcomes = await Promise.allSettled(
    ENTITIES.map((entity) =>
      a.extractEntity.executeWithOptions({ summary: `extract ${entity} from the source database` }, [{ run, entity }]),
    ),
  );
  const failures: string[] = [];
  const notExtracted: string[] = [];
  for (const outcome of outcomes) {
    if (outcome.status === 'rejected') {
      const err: unknown = outcome.reason;
      if (isCancellation(err)) throw err;
      failures.push(err instanceof ActivityFailure && err.cause ? err.cause.message : String((err as Error).message ?? err));
      continue;
    }
    const r = outcome.value;
    if (!r.extracted) {
      notExtracted.push(r.reason);
      continue;
    }
    s.externalIds[r.entity] = r.key;
    s.metrics[`${r.entity}.rows`] = r.rows;
    s.metrics[`${r.entity}.bytes`] = r.bytes;
  }
  if (failures.length) throw new StageError(failures.join('; '));
  if (notExtracted.length) s.message = `not extracted: ${notExtracted.join('; ')}`;
}

async function awaitRawData(ctx: StageContext, s: StageStatus): Promise<void> {
  const info = workflowInfo();
  const o = ctx.options.stages.awaitRawData;
  const run = refOf(ctx, 'awaitRawData');
  const startedAtMs = nowMs();
  let result: SensorResult | undefined;
  let found: Partial<Record<Entity, RawPartitionListing>> | undefined;
  if (patched(LOCAL_CALLS_PATCH)) {
    const a = activitiesFor(o);
    const listings = await Promise.all(
      ENTITIES.map((entity) => a.listRawPartition.executeWithOptions({ summary: `list raw/${entity}/${run.runDate}/` }, [{ run, entity }])),
    );
    found = {};
    for (const l of listings) if (l.objects.length > 0) found[l.entity] = l;
    if (Object.keys(found).length === ENTITIES.length) result = { listings, polls: 1, waitedMs: 0, lateAlertSent: false };
  }
  if (!result) {
    const childId = `${info.workflowId}/awaitRawData/${s.attempts}`;
    s.externalIds.sensorWorkflowId = childId;
    result = await executeChild(awaitRawDataSensor, {
      workflowId: childId,
      staticSummary: `Raw data sensor for ${ctx.book.status.runDate}`,
      args: [
        {
          run,
          options: o,
          startedAtMs,
          parent: { workflowId: info.workflowId, runId: info.runId },
          ...(found ? { found, polls: 1, waitFirst: true } : {}),
        },
      ],
    });
  }
  s.metrics.polls = result.polls;
  s.metrics.waitedMs = result.waitedMs;
  for (const l of result.listings) {
    s.metrics[`${l.entity}.files`] = l.objects.length;
    s.metrics[`${l.entity}.bytes`] = l.objects.reduce((n, o) => n + o.size, 0);
  }
}

async function catalog(ctx: StageContext, s: StageStatus): Promise<void> {
  const o = ctx.options.stages.catalog;
  const a = activitiesFor(o);
  const run = refOf(ctx, 'catalog');
  const crawl = await startUncancellable(() => a.startCrawl.executeWithOptions({ summary: 'start crawl of raw partitions' }, [{ run }]));
  s.externalIds.crawl = crawl.crawlId;
  if (crawl.alreadyRunning) s.message = `crawl ${crawl.crawlId} was already running; waiting for it`;
  const st = await watch(s, o, `crawl ${crawl.crawlId}`, () =>
    a.getCrawlState.executeWithOptions({ summary: `read crawl ${crawl.crawlId}` }, [{ run, crawlId: crawl.crawlId }]),
  );
  mergeMetrics(s, st.metrics);
  for (const t of st.tables ?? []) {
    if (t.rowCount !== undefined) s.metrics[`${t.entity}.rows`] = t.rowCount;
    if (t.files !== undefined) s.metrics[`${t.entity}.files`] = t.files;
  }
  if (st.state !== 'SUCCEEDED') throw new StageError(failureText(`crawl ${crawl.crawlId}`, st));
  ctx.book.status.unread = st.unread?.length ? st.unread : undefined;
  if (st.unread?.length) {
    s.metrics.unread = st.unread.length;
    s.message = unreadSummary(st.unread);
  }
}

async function validate(ctx: StageContext, s: StageStatus): Promise<void> {
  const o = ctx.options.stages.validate;
  const a = activitiesFor(o);
  const run = refOf(ctx, 'validate');
  const q = await startUncancellable(() =>
    a.startQuery.executeWithOptions({ summary: 'start quality checks query' }, [
      { run, query: 'quality_checks', thresholds: ctx.options.quality },
    ]),
  );
  s.externalIds.qualityQuery = q.queryId;
  const ref = { run, queryId: q.queryId };
  const st = await watch(
    s,
    o,
    `quality query ${q.queryId}`,
    () => a.getQueryState.executeWithOptions({ summary: `read query ${q.queryId}` }, [ref]),
    () => a.stopQuery.executeWithOptions({ summary: `stop query ${q.queryId}` }, [ref]),
  );
  mergeMetrics(s, st.metrics);
  if (st.state !== 'SUCCEEDED') throw new StageError(failureText(`quality query ${q.queryId}`, st));
  const records = [];
  let nextToken: string | undefined;
  do {
    const page = await a.getQueryResults.executeWithOptions({ summary: `read results of ${q.queryId}` }, [{ ...ref, nextToken }]);
    records.push(...pageToRecords(page));
    nextToken = page.nextToken;
  } while (nextToken);
  let results;
  try {
    results = toQualityResults(records);
  } catch (err) {
    throw new StageError(`quality query ${q.queryId} returned an unreadable report: ${(err as Error).message}`);
  }
  ctx.book.status.quality = results;
  s.metrics.checks = results.length;
  s.metrics.failedChecks = results.filter((r) => !r.passed).length;
  const unread = ctx.book.status.unread ?? [];
  const unreadFails = ctx.options.quality.unreadFiles === 'fail' && unread.length > 0;
  if (!gatePassed(results) || unreadFails) {
    const failed = results.filter((r) => !r.passed).map((r) => `${r.entity}.${r.check} ${round(r.value)} < ${r.threshold}`);
    if (unreadFails) failed.push(`${unreadSummary(unread)} (quality.unreadFiles is fail)`);
    throw new StageError(`quality gate failed: ${failed.length ? failed.join('; ') : 'no checks were measured'}`, 'quality_failed');
  }
}

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}

/** Runs a job that may be started again by the workflow when the backend says it was lost. */
async function withAutoRestart(
  ctx: StageContext,
  stage: 'transform' | 'load',
  s: StageStatus,
  attempt: () => Promise<JobStatus & { id: string; label: string }>,
): Promise<JobStatus & { id: string }> {
  const o = ctx.options.stages[stage];
  for (let restarts = 0; ; restarts++) {
    const st = await attempt();
    if (st.state === 'SUCCEEDED') return st;
    if (st.state === 'FAILED' && st.retryable && restarts < o.maxAutoRestarts) {
      ctx.book.restart(stage, `restarted after: ${st.message ?? 'lost'}`);
      s.metrics.autoRestarts = restarts + 1;
      continue;
    }
    throw new StageError(failureText(st.label, st));
  }
}

/**
 * Starts an ETL run, waiting with durable timers while the backend says every slot is taken (a
 * backfill filling Glue's concurrent-runs limit); gives up at the stage's timeout.
 */
async function startWhenFree(s: StageStatus, o: StageOptions, start: () => Promise<EtlRunHandle>): Promise<EtlRunHandle> {
  const began = nowMs();
  const timeoutMs = msToNumber(o.timeout);
  const nextWait = pollWaits(o);
  let h = await start();
  while (h.busy) {
    s.message = h.busy;
    s.metrics.busyStarts = (s.metrics.busyStarts ?? 0) + 1;
    const waited = nowMs() - began;
    if (waited >= timeoutMs) throw new StageError(`could not start within ${o.timeout}: ${h.busy}`);
    await sleep(Math.max(1, Math.min(nextWait(), timeoutMs - waited)));
    h = await start();
  }
  if (s.metrics.busyStarts !== undefined) s.message = undefined;
  return h;
}

async function transform(ctx: StageContext, s: StageStatus): Promise<void> {
  const o = ctx.options.stages.transform;
  const a = activitiesFor(o);
  const st = await withAutoRestart(ctx, 'transform', s, async () => {
    const run = refOf(ctx, 'transform');
    const h = await startWhenFree(s, o, () =>
      startUncancellable(() => a.startEtlRun.executeWithOptions({ summary: `start ETL run for ${run.runDate}` }, [{ run }])),
    );
    s.externalIds.etlRunId = h.etlRunId;
    const ref = { run, etlRunId: h.etlRunId };
    const label = `ETL run ${h.etlRunId}`;
    const result = await watch(
      s,
      o,
      label,
      () => a.getEtlRunState.executeWithOptions({ summary: `read ETL run ${h.etlRunId}` }, [ref]),
      () => a.stopEtlRun.executeWithOptions({ summary: `stop ETL run ${h.etlRunId}` }, [ref]),
    );
    return { ...result, id: h.etlRunId, label };
  });
  mergeMetrics(s, st.metrics);
  ctx.etlRunId = st.id;
  ctx.transformMetrics = st.metrics ?? {};
}

async function runStatements(ctx: StageContext, stage: 'load' | 'verify', s: StageStatus, a: Acts, o: StageOptions) {
  const run = refOf(ctx, stage);
  const h = await startUncancellable(() =>
    a.startWarehouseStatements.executeWithOptions({ summary: `start warehouse ${stage} statements` }, [
      { run, operation: stage, etlRunId: ctx.etlRunId },
    ]),
  );
  s.externalIds.statementId = h.statementId;
  const ref = { run, statementId: h.statementId };
  const label = `warehouse ${stage} statement ${h.statementId}`;
  const st = await watch(
    s,
    o,
    label,
    () => a.getStatementState.executeWithOptions({ summary: `read statement ${h.statementId}` }, [ref]),
    () => a.cancelStatement.executeWithOptions({ summary: `cancel statement ${h.statementId}` }, [ref]),
  );
  return { ...st, id: h.statementId, label, ref };
}

async function load(ctx: StageContext, s: StageStatus): Promise<void> {
  const o = ctx.options.stages.load;
  const a = activitiesFor(o);
  const st = await withAutoRestart(ctx, 'load', s, () => runStatements(ctx, 'load', s, a, o));
  mergeMetrics(s, st.metrics);
}

async function verify(ctx: StageContext, s: StageStatus): Promise<void> {
  const o = ctx.options.stages.verify;
  const a = activitiesFor(o);
  const st = await runStatements(ctx, 'verify', s, a, o);
  if (st.state !== 'SUCCEEDED') throw new StageError(failureText(st.label, st));
  const records = [];
  let nextToken: string | undefined;
  do {
    const page = await a.getStatementResult.executeWithOptions({ summary: `read verify result ${st.id}` }, [{ ...st.ref, nextToken }]);
    records.push(...pageToRecords(page));
    nextToken = page.nextToken;
  } while (nextToken);
  const rows = toVerifyRows(records);
  for (const r of rows) {
    s.metrics[`${r.entity}.warehouse_rows`] = r.warehouse_rows;
    s.metrics[`${r.entity}.superseded_rows`] = r.superseded_rows;
    if (r.revenue !== null) s.metrics[`${r.entity}.revenue`] = r.revenue;
  }
  const problems = verifyProblems(rows, ctx.transformMetrics);
  if (problems.length > 0) throw new StageError(`verify found differences: ${problems.join('; ')}`);
  // An older day run after newer ones: its rows are in the warehouse under the later batches' values.
  const superseded = rows.filter((r) => r.superseded_rows > 0).map((r) => `${r.superseded_rows} ${r.entity}`);
  if (superseded.length)
    s.message = `${superseded.join(', ')} of this batch's rows are held by later batches, which replaced them (the newest batch wins)`;
}

export const STAGE_RUNNERS: Record<Exclude<StageName, 'notify'>, (ctx: StageContext, s: StageStatus) => Promise<void>> = {
  extract,
  awaitRawData,
  catalog,
  validate,
  transform,
  load,
  verify,
};
