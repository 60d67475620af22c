/**
 * The worker registers exactly the activities of PipelineActivities: a backend's other members
 * (`close`) are not handed to Worker.create (the local engine is not on the activities at all), and
 * the worker closes the backend itself, when it stops and when it cannot start.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createLocalActivities, createLocalBackend } from '../../src/activities/local';
import type { ActivityName } from '../../src/activities/types';
import { loadConfig } from '../../src/config';
import { ACTIVITY_NAMES, createPipelineWorker, registeredActivities } from '../../src/worker';
import { FakeBackend } from '../../tools/fake-backend';
import { localConfig, tempDir } from '../local/support';

const root = tempDir('worker-activities');
const config = loadConfig({
  PIPELINE_LAKE_DIR: path.join(root, 'lake'),
  PIPELINE_WAREHOUSE_PATH: path.join(root, 'warehouse.duckdb'),
  PIPELINE_OUTBOX_PATH: path.join(root, 'outbox.jsonl'),
});
const connection = {} as NativeConnection;

/** The names of PipelineActivities, from the type: adding or removing one fails to compile here. */
const INTERFACE_NAMES = Object.keys({
  extractEntity: 0,
  listRawPartition: 0,
  startCrawl: 0,
  getCrawlState: 0,
  startQuery: 0,
  getQueryState: 0,
  getQueryResults: 0,
  stopQuery: 0,
  startEtlRun: 0,
  getEtlRunState: 0,
  stopEtlRun: 0,
  startWarehouseStatements: 0,
  getStatementState: 0,
  getStatementResult: 0,
  cancelStatement: 0,
  publishNotification: 0,
} satisfies Record<ActivityName, 0>).sort();

/** Captures what createPipelineWorker hands to Worker.create; `worker` is what create returns (or throws). */
function captureCreate(worker: (() => Worker) | Error): { options: () => WorkerOptions } {
  let seen: WorkerOptions | undefined;
  vi.spyOn(Worker, 'create').mockImplementation(async (options: WorkerOptions) => {
    seen = options;
    if (worker instanceof Error) throw worker;
    return worker();
  });
  return { options: () => seen! };
}

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('the activities a worker registers', () => {
  it('ACTIVITY_NAMES are the keys of PipelineActivities', () => {
    expect([...ACTIVITY_NAMES].sort()).toEqual(INTERFACE_NAMES);
  });

  it("registeredActivities keeps the local backend's activities and drops close", async () => {
    const local = createLocalActivities(localConfig(tempDir('worker-activities-local')), { webUiUrl: 'http://127.0.0.1:8233' });
    try {
      const registered = registeredActivities(local);
      expect(Object.keys(registered).sort()).toEqual(INTERFACE_NAMES);
      for (const name of ACTIVITY_NAMES) expect(registered[name]).toBe(local[name]);
    } finally {
      await local.close();
    }
  });

  it('the local backend keeps its engine beside its activities, not on them', async () => {
    const dir = tempDir('worker-activities-backend');
    const { activities, engine } = createLocalBackend(localConfig(dir), { webUiUrl: 'http://127.0.0.1:8233' });
    try {
      expect(Object.keys(activities).sort()).toEqual([...INTERFACE_NAMES, 'close'].sort());
      expect(await engine.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await activities.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('createPipelineWorker registers exactly the PipelineActivities and closes the backend after run', async () => {
    const close = vi.fn(async () => undefined);
    const activities = { ...new FakeBackend().activities(), close };
    const run = vi.fn(async () => undefined);
    const created = captureCreate(() => ({ run }) as unknown as Worker);
    const pipelineWorker = await createPipelineWorker({ config, connection, activities, workflowBundle: { code: '' } });

    const registered = created.options().activities as Record<string, unknown>;
    expect(Object.keys(registered).sort()).toEqual(INTERFACE_NAMES);
    expect(registered).not.toHaveProperty('close');
    expect(close).not.toHaveBeenCalled();

    await pipelineWorker.run();
    expect(run).toHaveBeenCalledOnce();
    expect(close).toHaveBeenCalledOnce();
  });

  it('createPipelineWorker closes the backend when the worker cannot be created', async () => {
    const close = vi.fn(async () => undefined);
    captureCreate(new Error('no server'));
    await expect(
      createPipelineWorker({ config, connection, activities: { ...new FakeBackend().activities(), close }, workflowBundle: { code: '' } }),
    ).rejects.toThrow('no server');
    expect(close).toHaveBeenCalledOnce();
  });
});
