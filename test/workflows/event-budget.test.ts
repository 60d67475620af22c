/**
 * History size of long waits, on the real time-skipping test server with the scripted fake backend:
 * a stage that polls its job 100 times, and a raw-data sensor that polls 100 times, keep every
 * history far below Temporal's 10,240-event warning (the sensor by continuing as new).
 */
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeepPartial, PipelineOptions, PipelineResult } from '../../src/workflows/definitions';
import { resolveOptions } from '../../src/workflows/options';
import { FakeBackend } from '../support/fake-backend';
import type { FakeBackendOptions } from '../support/fake-backend';
import { registerPipelineSearchAttributes } from '../support/search-attributes';
import { createTimeSkippingEnv } from '../support/temporal/time-skipping';

const { EventType } = temporal.api.enums.v1;

/** Far below Temporal's 10,240-event warning (and its 51,200-event limit). */
const BUDGET = 1_000;
const POLLS = 100;

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

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  await registerPipelineSearchAttributes(env);
  bundle = await bundleWorkflowCode({ workflowsPath: path.resolve(__dirname, '../../src/workflows/index.ts'), logger: new DefaultLogger('WARN') });
});

afterAll(async () => {
  await env?.teardown();
});

/** Runs one dailyPipeline to completion on its own task queue with a fake backend. */
async function runPipeline(
  name: string,
  backendOpts: FakeBackendOptions,
  options: DeepPartial<PipelineOptions>,
): Promise<{ backend: FakeBackend; handle: WorkflowHandle; result: PipelineResult }> {
  const backend = new FakeBackend(backendOpts);
  const taskQueue = `event-budget-${name}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: backend.activities() });
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
  for (let runId: string | null | undefined = firstRunId; runId; ) {
    if (chain.length > 1_000) throw new Error(`${workflowId}: continue-as-new chain does not end`);
    const events = await historyOf(workflowId, runId);
    chain.push({ runId, events });
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
  }
  return chain;
}

function stageMetrics(result: PipelineResult, stage: string): Record<string, number> {
  return result.stages.find((s) => s.stage === stage)!.metrics;
}

describe('history size of long waits (time-skipping server)', () => {
  it(`a transform job that stays RUNNING for ${POLLS} state reads keeps the run's history under ${BUDGET} events`, async () => {
    const workflowId = 'event-budget-transform';
    const { backend, result } = await runPipeline('transform', { jobs: { etl: [{ runningReads: POLLS }] } }, OPTIONS);
    expect(result.state).toBe('succeeded');
    expect(backend.count('getEtlRunState')).toBe(POLLS + 1);
    expect(stageMetrics(result, 'transform').polls).toBe(POLLS + 1);

    const parent = await historyOf(workflowId);
    const sensor = await historyOf(`${workflowId}/awaitRawData/1`);
    console.log(`transform with ${POLLS} RUNNING reads: parent history ${parent.length} events, sensor ${sensor.length} events`);
    expect(parent.at(-1)?.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    // One durable timer per poll: the waits are in history, each costs a handful of events.
    expect(parent.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_FIRED)).toHaveLength(POLLS);
    expect(parent.length).toBeLessThan(BUDGET);
    expect(sensor.length).toBeLessThan(BUDGET);
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
    console.log(`sensor with ${POLLS + 1} polls, pollsPerHistory ${pollsPerHistory}: ${chain.length} runs of ${sizes.join(', ')} events; parent history ${parent.length} events`);
    expect(chain).toHaveLength(Math.ceil((POLLS + 1) / pollsPerHistory));
    expect(chain.at(-1)!.runId).toBe(description.runId);
    expect(chain.slice(0, -1).every((r) => r.events.at(-1)?.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW)).toBe(true);
    expect(parent.length).toBeLessThan(BUDGET);
    for (const size of sizes) expect(size).toBeLessThan(BUDGET);
  });
});
