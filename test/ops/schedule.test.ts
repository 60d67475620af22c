/**
 * The pipeline schedule on a real Temporal dev server, with the pipeline worker running scripted
 * instant activities: create is idempotent, trigger and backfill start runs with the right run dates,
 * pause stops scheduled runs.
 */
import type { Client } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import {
  backfillSchedule,
  createOrUpdateSchedule,
  dateInZone,
  defaultSettings,
  deleteSchedule,
  describeSchedule,
  pauseSchedule,
  ScheduleMissingError,
  triggerAndFindRun,
  triggerSchedule,
} from '../../src/schedule';
import type { PipelineScheduleSettings } from '../../src/schedule';
import { createPipelineWorker, workflowsEntry } from '../../src/worker';
import type { PipelineWorker } from '../../src/worker';
import type { DeepPartial, PipelineOptions, PipelineResult } from '../../src/workflows/definitions';
import { SA_RUN_DATE, SA_TRIGGER } from '../../src/workflows/definitions';
import { FakeBackend } from '../../tools/fake-backend';
import { startTestDevServer } from '../support/temporal/dev-server';
import type { TestDevServer } from '../support/temporal/dev-server';

const TASK_QUEUE = 'ops-schedule';
const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

let server: TestDevServer;
let client: Client;
let pipelineWorker: PipelineWorker;
let workerRunning: Promise<void>;

function settings(scheduleId: string, extra: Partial<PipelineScheduleSettings> = {}): PipelineScheduleSettings {
  return { ...defaultSettings(TASK_QUEUE), scheduleId, ...extra };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}

interface ListedRun {
  workflowId: string;
  runDate: unknown;
  trigger: unknown;
  scheduledAt: Date | undefined;
  status: string;
}

async function listRuns(query: string): Promise<ListedRun[]> {
  const runs: ListedRun[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowType = "dailyPipeline" AND ${query}` })) {
    runs.push({
      workflowId: wf.workflowId,
      runDate: wf.typedSearchAttributes.get(SA_RUN_DATE),
      trigger: wf.typedSearchAttributes.get(SA_TRIGGER),
      scheduledAt: wf.typedSearchAttributes.get(SCHEDULED_START),
      status: wf.status.name,
    });
  }
  return runs;
}

beforeAll(async () => {
  server = await startTestDevServer();
  client = server.client;
  // Started first so that a minute boundary passes while the other tests run (see the pause test).
  await createOrUpdateSchedule(
    client,
    settings('ops-every-minute-paused', { cron: '* * * * *', createPaused: { note: 'maintenance window' } }),
  );
  await createOrUpdateSchedule(client, settings('ops-every-minute-control', { cron: '* * * * *' }));

  const bundle: WorkflowBundleWithSourceMap = await bundleWorkflowCode({ workflowsPath: workflowsEntry(), logger: quiet() });
  const config = loadConfig({ TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace, PIPELINE_TASK_QUEUE: TASK_QUEUE });
  pipelineWorker = await createPipelineWorker({
    config,
    connection: server.nativeConnection,
    activities: new FakeBackend().activities(),
    workflowBundle: bundle,
  });
  workerRunning = pipelineWorker.run();
});

afterAll(async () => {
  if (pipelineWorker) {
    pipelineWorker.worker.shutdown();
    await workerRunning;
  }
  await server?.stop();
});

function quiet() {
  const noop = () => undefined;
  return { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };
}

describe('pipeline schedule on the dev server', () => {
  it('create is idempotent; a changed setting updates it and keeps it paused', async () => {
    const id = 'ops-idempotent';
    expect(await createOrUpdateSchedule(client, settings(id, { createPaused: { note: 'new' } }))).toEqual({ outcome: 'created' });
    const first = await describeSchedule(client, id);
    expect(await createOrUpdateSchedule(client, settings(id))).toEqual({ outcome: 'unchanged' });
    const second = await describeSchedule(client, id);
    expect(second.raw.conflictToken).toEqual(first.raw.conflictToken);
    expect(second.info.lastUpdatedAt).toEqual(first.info.lastUpdatedAt);

    const changed = await createOrUpdateSchedule(client, settings(id, { timeZone: 'Europe/Paris', cron: '0 6 * * *' }));
    expect(changed).toEqual({ outcome: 'updated', changed: ['cron', 'time zone', 'workflow input'] });
    const third = await describeSchedule(client, id);
    expect(third.raw.conflictToken).not.toEqual(second.raw.conflictToken);
    expect(third.spec.timezone).toBe('Europe/Paris');
    expect(third.action.args).toEqual([{ trigger: 'schedule', timeZone: 'Europe/Paris' }]);
    expect(third.state).toMatchObject({ paused: true, note: 'new' });
    // 06:00 in Paris is 04:00 or 05:00 UTC.
    expect(third.info.nextActionTimes[0]!.getUTCHours()).toBeGreaterThanOrEqual(4);
    expect(third.info.nextActionTimes[0]!.getUTCHours()).toBeLessThanOrEqual(5);
    expect(await createOrUpdateSchedule(client, settings(id, { timeZone: 'Europe/Paris', cron: '0 6 * * *' }))).toEqual({
      outcome: 'unchanged',
    });
    const options: DeepPartial<PipelineOptions> = { stages: { load: { pollInterval: '2 seconds' } } };
    expect(
      await createOrUpdateSchedule(client, settings(id, { timeZone: 'Europe/Paris', cron: '0 6 * * *', overlap: 'BUFFER_ONE', options })),
    ).toEqual({
      outcome: 'updated',
      changed: ['overlap policy', 'workflow input'],
    });
    expect((await describeSchedule(client, id)).action.args).toEqual([{ trigger: 'schedule', timeZone: 'Europe/Paris', options }]);
    await deleteSchedule(client, id);
  });

  it("trigger starts a schedule run (even while paused) that completes with today's run date", async () => {
    const id = 'ops-trigger';
    await createOrUpdateSchedule(client, settings(id, { timeZone: 'Asia/Tokyo', createPaused: { note: 'only manual triggers' } }));
    await triggerSchedule(client, id);
    const action = await waitFor('the triggered action', async () => (await describeSchedule(client, id)).info.recentActions[0]);
    const handle = client.workflow.getHandle(action.action.workflow.workflowId);
    const result = (await handle.result()) as PipelineResult;
    const runDate = dateInZone(action.scheduledAt, 'Asia/Tokyo');
    expect(result).toMatchObject({ runDate, state: 'succeeded' });
    const attrs = (await handle.describe()).typedSearchAttributes;
    expect(attrs.get(SA_RUN_DATE)).toBe(runDate);
    expect(attrs.get(SA_TRIGGER)).toBe('schedule');
    expect(action.action.workflow.workflowId).toMatch(new RegExp(`^${id}-\\d{4}-\\d\\d-\\d\\dT`));
    await deleteSchedule(client, id);
  });

  it('backfill of 7 dates gives 7 runs, one per date, each found by its PipelineRunDate', async () => {
    // 08:00 in Auckland is the previous day in UTC, and daylight time starts on 2025-09-28: the run
    // dates must still be the local dates.
    const id = 'ops-backfill';
    const tz = 'Pacific/Auckland';
    await createOrUpdateSchedule(client, settings(id, { cron: '0 8 * * *', timeZone: tz, createPaused: { note: 'backfill only' } }));
    const plan = await backfillSchedule(client, id, '2025-09-25', '2025-10-01', 'BUFFER_ALL');
    expect(plan.dates).toEqual(['2025-09-25', '2025-09-26', '2025-09-27', '2025-09-28', '2025-09-29', '2025-09-30', '2025-10-01']);

    const runs = await waitFor('7 completed backfill runs', async () => {
      const found = await listRuns(`TemporalScheduledById = "${id}"`);
      return found.length === 7 && found.every((r) => r.status === 'COMPLETED') ? found : undefined;
    });
    expect(runs.map((r) => r.runDate).sort()).toEqual(plan.dates);
    for (const r of runs) {
      expect(r.trigger).toBe('backfill');
      expect(dateInZone(r.scheduledAt!, tz)).toBe(r.runDate);
      expect(new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit' }).format(r.scheduledAt)).toBe('08:00');
    }
    for (const date of plan.dates) {
      const byDate = await listRuns(`PipelineRunDate = "${date}" AND TemporalScheduledById = "${id}"`);
      expect(byDate).toHaveLength(1);
      const result = (await client.workflow.getHandle(byDate[0]!.workflowId).result()) as PipelineResult;
      expect(result.runDate).toBe(date);
    }
    await deleteSchedule(client, id);
  });

  it('pause stops scheduled runs: a paused every-minute schedule takes no action while its twin does', async () => {
    const control = await waitFor('the unpaused twin to take a scheduled action', async () => {
      const d = await describeSchedule(client, 'ops-every-minute-control');
      return d.info.numActionsTaken >= 1 ? d : undefined;
    });
    // Both were created before the control's first action, so that minute was due for both.
    expect(control.info.recentActions[0]!.scheduledAt.getTime()).toBeGreaterThan(
      (await describeSchedule(client, 'ops-every-minute-paused')).info.createdAt.getTime(),
    );
    await pauseSchedule(client, 'ops-every-minute-control', 'stop');

    const paused = await describeSchedule(client, 'ops-every-minute-paused');
    expect(paused.state).toMatchObject({ paused: true, note: 'maintenance window' });
    expect(paused.info.numActionsTaken).toBe(0);
    expect(paused.info.recentActions).toEqual([]);
    expect(await listRuns('TemporalScheduledById = "ops-every-minute-paused"')).toEqual([]);

    // A trigger is an explicit request and is honoured while paused. Its run is named after its own
    // schedule, so it cannot collide with the control's run even within the same second.
    const triggered = await triggerAndFindRun(client, 'ops-every-minute-paused', 'ALLOW_ALL', 90_000);
    expect(triggered?.action.workflow.workflowId).toMatch(/^ops-every-minute-paused-/);
    await client.workflow.getHandle(triggered!.action.workflow.workflowId).result();

    for (const id of ['ops-every-minute-paused', 'ops-every-minute-control']) {
      await deleteSchedule(client, id);
      await expect(describeSchedule(client, id)).rejects.toThrow(ScheduleMissingError);
    }
  }, 240_000);
});
