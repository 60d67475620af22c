/**
 * History size and read timing of state polling, on the real time-skipping test server with the
 * scripted fake backend: a stage that polls its job 100 times and a raw-data sensor that polls 100
 * times keep every history far below Temporal's 10,240-event warning (the sensor by continuing as
 * new); a 2-hour ETL job costs at most a stated few events more than it did before adaptive polling;
 * and with the default options the stages of a quick run read state within about a second of
 * starting their work.
 */
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineActivities } from '../../src/activities/types';
import type { DeepPartial, PipelineOptions, PipelineResult } from '../../src/workflows/definitions';
import { resolveOptions } from '../../src/workflows/options';
import { FakeBackend } from '../../tools/fake-backend';
import type { FakeBackendOptions } from '../../tools/fake-backend';
import { registerPipelineSearchAttributes } from '../support/search-attributes';
import { createTimeSkippingEnv } from '../support/temporal/time-skipping';

const { EventType } = temporal.api.enums.v1;

/** Far below Temporal's 10,240-event warning (and its 51,200-event limit). */
const BUDGET = 1_000;
const POLLS = 100;

/**
 * Parent history of a run whose transform job runs 2 hours less 5 s at the default 30 s poll
 * interval, measured on the code before adaptive polling (fixed 30 s sleeps: 241 state reads, 240
 * timers, 6 events a read). Adaptive polling's ramp (sleeps of 1, 2, 4, 8 and 16 s in place of the
 * first 30 s one) makes 4 reads more over such a job, and its patch costs 2 events once per run (the
 * marker and the TemporalChangeVersion search attribute).
 */
const FIXED_2H_EVENTS = 1_518;
const PATCH_EVENTS = 2;
const ADAPTIVE_ALLOWANCE = 4 * 6 + PATCH_EVENTS;
/**
 * What the local-calls patch takes from a run whose files are there at once (its own 2 events
 * aside): 7 stage calls that were regular activities (3 events each, and a workflow task of 3 to
 * take the result) are a marker each, so 5 fewer; the sensor child (3 events in the parent and 2
 * workflow tasks to follow it) is gone, and the run's own 3 listings cost a marker each.
 */
const LOCAL_CALLS_SAVING = 7 * 5 + 3 + 2 * 3 - 3;

// Worker state changes and workflow log lines at INFO would drown the figures this file prints.
Runtime.install({ logger: new DefaultLogger('WARN') });

const quickRetry = { initialInterval: '10 ms', maximumAttempts: 2 } as const;
/** Poll intervals of a real day; the sensor's soft deadline and give-up time lie well beyond 100 polls. */
const OPTIONS: DeepPartial<PipelineOptions> = {
  stages: {
    awaitRawData: { pollInterval: '5 minutes', softDeadline: '30 days', timeout: '60 days', retry: quickRetry },
    catalog: { pollInterval: '30 seconds', retry: quickRetry },
    validate: { pollInterval: '5 seconds', retry: quickRetry },
    transform: { pollInterval: '30 seconds', timeout: '1 day', retry: quickRetry },
    load: { pollInterval: '10 seconds', retry: quickRetry },
    verify: { pollInterval: '5 seconds', retry: quickRetry },
    notify: { retry: quickRetry },
  },
  operatorWait: '2 hours',
};

/** The default options, with only the retries shortened (nothing in these runs fails). */
const DEFAULTS_QUICK_RETRY: DeepPartial<PipelineOptions> = {
  stages: Object.fromEntries(
    ['awaitRawData', 'catalog', 'validate', 'transform', 'load', 'verify', 'notify'].map((s) => [s, { retry: quickRetry }]),
  ),
};

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  await registerPipelineSearchAttributes(env);
  bundle = await bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../../src/workflows/index.ts'),
    logger: new DefaultLogger('WARN'),
  });
});

afterAll(async () => {
  await env?.teardown();
});

/** Runs one dailyPipeline to completion on its own task queue with a fake backend. */
async function runPipeline(
  name: string,
  backendOpts: FakeBackendOptions,
  options: DeepPartial<PipelineOptions>,
  wrap: (acts: PipelineActivities) => PipelineActivities = (acts) => acts,
): Promise<{ backend: FakeBackend; handle: WorkflowHandle; result: PipelineResult }> {
  const backend = new FakeBackend(backendOpts);
  const taskQueue = `event-budget-${name}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: wrap(backend.activities()),
  });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start('dailyPipeline', {
      taskQueue,
      workflowId: `event-budget-${name}`,
      args: [{ runDate: '2025-10-27', options }],
    });
    const result = (await handle.result()) as PipelineResult;
    return { backend, handle, result };
  });
}

type Timed = 'crawl' | 'query' | 'etl' | 'load' | 'verify';

/**
 * Makes each started job run for a span of workflow time (the test server's clock) instead of a
 * number of reads: its state reads answer RUNNING until then, and the fake backend's answer after.
 */
function timedJobs(durationsMs: Partial<Record<Timed, number>>): (acts: PipelineActivities) => PipelineActivities {
  return (acts) => {
    const startedAt = new Map<string, number>();
    const started = async (id: string) => {
      if (!startedAt.has(id)) startedAt.set(id, await env.currentTimeMs());
    };
    const running = async (kind: Timed, id: string) => (await env.currentTimeMs()) - startedAt.get(id)! < (durationsMs[kind] ?? 0);
    const RUNNING = { state: 'RUNNING' as const, metrics: { progress: 0.5 } };
    return {
      ...acts,
      startCrawl: async (input) => {
        const h = await acts.startCrawl(input);
        await started(h.crawlId);
        return h;
      },
      getCrawlState: async (input) => ((await running('crawl', input.crawlId)) ? RUNNING : acts.getCrawlState(input)),
      startQuery: async (input) => {
        const h = await acts.startQuery(input);
        await started(h.queryId);
        return h;
      },
      getQueryState: async (input) => ((await running('query', input.queryId)) ? RUNNING : acts.getQueryState(input)),
      startEtlRun: async (input) => {
        const h = await acts.startEtlRun(input);
        if (!h.busy) await started(h.etlRunId);
        return h;
      },
      getEtlRunState: async (input) => ((await running('etl', input.etlRunId)) ? RUNNING : acts.getEtlRunState(input)),
      startWarehouseStatements: async (input) => {
        const h = await acts.startWarehouseStatements(input);
        await started(h.statementId);
        return h;
      },
      getStatementState: async (input) =>
        (await running(input.statementId.startsWith('verify') ? 'verify' : 'load', input.statementId))
          ? { ...RUNNING, hasResultSet: false }
          : acts.getStatementState(input),
    };
  };
}

type Event = temporal.api.history.v1.IHistoryEvent;

async function historyOf(workflowId: string, runId?: string): Promise<Event[]> {
  const { events } = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
  return events ?? [];
}

/** Every run of a workflow id, oldest first, following continue-as-new from its first run. */
async function runChain(workflowId: string): Promise<{ runId: string; events: Event[] }[]> {
  const latest = await historyOf(workflowId);
  const firstRunId = latest[0]?.workflowExecutionStartedEventAttributes?.firstExecutionRunId;
  if (!firstRunId) throw new Error(`${workflowId}: no firstExecutionRunId in its started event`);
  const chain: { runId: string; events: Event[] }[] = [];
  for (let runId: string | null | undefined = firstRunId; runId;) {
    if (chain.length > 1_000) throw new Error(`${workflowId}: continue-as-new chain does not end`);
    const events = await historyOf(workflowId, runId);
    chain.push({ runId, events });
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
  }
  return chain;
}

/** The durations of the timers a history started, in seconds, in order. */
function timerSeconds(events: Event[]): number[] {
  return events
    .filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED)
    .map((e) => {
      const d = e.timerStartedEventAttributes!.startToFireTimeout!;
      return Number(d.seconds ?? 0) + (d.nanos ?? 0) / 1e9;
    });
}

function eventMs(e: Event): number {
  return Number(e.eventTime!.seconds ?? 0) * 1000 + (e.eventTime!.nanos ?? 0) / 1e6;
}

function stageOf(result: PipelineResult, stage: string) {
  return result.stages.find((s) => s.stage === stage)!;
}

function stageMetrics(result: PipelineResult, stage: string): Record<string, number> {
  return stageOf(result, stage).metrics;
}

function stageMs(result: PipelineResult, stage: string): number {
  const s = stageOf(result, stage);
  return Date.parse(s.endedAt!) - Date.parse(s.startedAt!);
}

describe('history size of long waits (time-skipping server)', () => {
  it(`a transform job that stays RUNNING for ${POLLS} state reads keeps the run's history under ${BUDGET} events`, async () => {
    const workflowId = 'event-budget-transform';
    const { backend, result } = await runPipeline('transform', { jobs: { etl: [{ runningReads: POLLS }] } }, OPTIONS);
    expect(result.state).toBe('succeeded');
    expect(backend.count('getEtlRunState')).toBe(POLLS + 1);
    expect(stageMetrics(result, 'transform').polls).toBe(POLLS + 1);

    const parent = await historyOf(workflowId);
    console.log(`transform with ${POLLS} RUNNING reads: parent history ${parent.length} events`);
    expect(parent.at(-1)?.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    // The raw files were there at the run's own first look: no sensor child was started.
    expect(stageOf(result, 'awaitRawData').externalIds.sensorWorkflowId).toBeUndefined();
    expect(parent.some((e) => e.eventType === EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED)).toBe(false);
    // One durable timer per poll: the waits are in history, each costs a handful of events. The
    // first reads come fast (1 s, doubling) and back off to the stage's 30 s interval.
    expect(parent.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_FIRED)).toHaveLength(POLLS);
    expect(timerSeconds(parent)).toEqual([1, 2, 4, 8, 16, ...Array<number>(POLLS - 5).fill(30)]);
    expect(parent.length).toBeLessThan(BUDGET);
  });

  it('a 2-hour ETL job at the default 30 s interval costs at most the stated allowance more than fixed 30 s polling did', async () => {
    const jobMs = 2 * 3_600_000 - 5_000;
    const options = (transform: DeepPartial<PipelineOptions['stages']['transform']>): DeepPartial<PipelineOptions> => ({
      ...DEFAULTS_QUICK_RETRY,
      stages: { ...DEFAULTS_QUICK_RETRY.stages, transform: { retry: quickRetry, timeout: '3 hours', ...transform } },
    });
    expect(resolveOptions(undefined).stages.transform.pollInterval).toBe('30 seconds');
    // The fixed schedule of before, as an option: the first sleep already the full interval.
    const fixed = await runPipeline('2h-fixed', {}, options({ firstPollInterval: '30 seconds' }), timedJobs({ etl: jobMs }));
    const adaptive = await runPipeline('2h-adaptive', {}, options({}), timedJobs({ etl: jobMs }));
    expect(fixed.result.state).toBe('succeeded');
    expect(adaptive.result.state).toBe('succeeded');
    const fixedEvents = (await historyOf('event-budget-2h-fixed')).length;
    const adaptiveHistory = await historyOf('event-budget-2h-adaptive');
    const fixedReads = stageMetrics(fixed.result, 'transform').polls;
    const adaptiveReads = stageMetrics(adaptive.result, 'transform').polls;
    console.log(
      `2-hour ETL job: fixed 30 s polling ${fixedReads} reads, ${fixedEvents} events (before adaptive polling: ${FIXED_2H_EVENTS}); ` +
        `adaptive ${adaptiveReads} reads, ${adaptiveHistory.length} events`,
    );
    // Reads at 0, 30, ..., 7,200 s; then at 0, 1, 3, 7, 15, 31, 61, ..., 7,171 and 7,201 s.
    expect(fixedReads).toBe(241);
    expect(adaptiveReads).toBe(245);
    expect(timerSeconds(adaptiveHistory).slice(0, 6)).toEqual([1, 2, 4, 8, 16, 30]);
    // firstPollInterval = pollInterval is the schedule of before adaptive polling, plus the patch's events.
    expect(fixedEvents).toBe(FIXED_2H_EVENTS + PATCH_EVENTS + PATCH_EVENTS - LOCAL_CALLS_SAVING);
    expect(adaptiveHistory.length).toBeLessThanOrEqual(FIXED_2H_EVENTS + ADAPTIVE_ALLOWANCE + PATCH_EVENTS - LOCAL_CALLS_SAVING);
  });

  it(`a sensor that polls ${POLLS + 1} times continues as new (default pollsPerHistory) and keeps every history under ${BUDGET} events`, async () => {
    const workflowId = 'event-budget-sensor';
    const pollsPerHistory = resolveOptions(undefined).stages.awaitRawData.pollsPerHistory;
    expect(pollsPerHistory).toBeLessThan(POLLS);
    const options: DeepPartial<PipelineOptions> = OPTIONS;
    // Every raw partition is missing for the first POLLS list calls, then present.
    const { backend, result } = await runPipeline('sensor', { rawReady: (_entity, call) => call > POLLS }, options);
    expect(result.state).toBe('succeeded');
    expect(stageMetrics(result, 'awaitRawData').polls).toBe(POLLS + 1);
    expect(backend.count('listRawPartition')).toBe(3 * (POLLS + 1));
    // No late-data alert: the soft deadline was never reached.
    expect(backend.notices.map((n) => n.kind)).toEqual(['succeeded']);

    const sensorId = `${workflowId}/awaitRawData/1`;
    const latest = await historyOf(sensorId);
    const started = latest[0]!.workflowExecutionStartedEventAttributes!;
    const description = await env.client.workflow.getHandle(sensorId).describe();
    expect(description.runId).not.toBe(started.firstExecutionRunId);
    expect(started.continuedExecutionRunId).toBeTruthy();
    expect(latest.at(-1)?.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);

    const chain = await runChain(sensorId);
    const parent = await historyOf(workflowId);
    const sizes = chain.map((r) => r.events.length);
    console.log(
      `sensor with ${POLLS + 1} polls, pollsPerHistory ${pollsPerHistory}: ${chain.length} runs of ${sizes.join(', ')} events; parent history ${parent.length} events`,
    );
    expect(chain).toHaveLength(Math.ceil((POLLS + 1) / pollsPerHistory));
    expect(chain.at(-1)!.runId).toBe(description.runId);
    expect(chain.slice(0, -1).every((r) => r.events.at(-1)?.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW)).toBe(
      true,
    );
    // The sensor does not ramp: its first check is immediate, and every later one waits the full interval.
    for (const r of chain) expect(new Set(timerSeconds(r.events))).toEqual(new Set([300]));
    expect(parent.length).toBeLessThan(BUDGET);
    for (const size of sizes) expect(size).toBeLessThan(BUDGET);
  });
});

describe('read timing of a quick run with the default options (time-skipping server)', () => {
  it("reads each stage's state within about a second of starting its work, so a small day takes seconds, not 77 s", async () => {
    // About 3 s of work, as a 1,264-row day on the local backend: catalog 1.2 s, transform 1.3 s, load 0.3 s.
    const work = { crawl: 1_200, query: 200, etl: 1_300, load: 300, verify: 100 };
    const { result, handle } = await runPipeline('quick-day', {}, DEFAULTS_QUICK_RETRY, timedJobs(work));
    expect(result.state).toBe('succeeded');
    const parent = await historyOf(handle.workflowId);
    const runMs = eventMs(parent.at(-1)!) - eventMs(parent[0]!);
    const stages = ['catalog', 'validate', 'transform', 'load', 'verify'];
    const perStage = stages.map((s) => `${s} ${(stageMs(result, s) / 1000).toFixed(1)} s`).join(', ');
    console.log(
      `quick day with default options: run ${(runMs / 1000).toFixed(1)} s of workflow time (${perStage}); timers ${timerSeconds(parent).join(', ')} s`,
    );
    // Every state read after the immediate one waits 1 s, then 2 s: work of 0.1-1 s is seen at 1 s,
    // of 1-3 s at 3 s (was: at the stage's full poll interval, 5 to 30 s).
    expect(timerSeconds(parent)).toEqual([1, 2, 1, 1, 2, 1, 1]);
    for (const s of ['validate', 'load', 'verify']) expect(stageMs(result, s)).toBeLessThan(2_000);
    for (const s of ['catalog', 'transform']) expect(stageMs(result, s)).toBeLessThan(4_000);
    expect(runMs).toBeLessThan(10_000);
  });
});
