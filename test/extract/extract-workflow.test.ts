/**
 * The extract stage in a whole run: a Temporal dev server, a worker with the local backend in this
 * process and a real PostgreSQL shop database. A run with extract on copies the day from the shop
 * and goes on through the rest of the day; a run without it shows the stage skipped and records no
 * extract activity; `pipeline rerun extract <date>` on the finished day extracts it again.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalActivities } from '../../src/activities/local';
import type { AppConfig, LocalConfig } from '../../src/config';
import { STAGES } from '../../src/shared/contract';
import { createPipelineWorker } from '../../src/worker';
import type { DeepPartial, PipelineOptions, PipelineResult, PipelineStatus } from '../../src/workflows/definitions';
import { statusQuery, WORKFLOW_TYPE } from '../../src/workflows/definitions';
import { pipelineCliEnv } from '../support/cli-env';
import type { TestDevServer } from '../support/temporal/dev-server';
import { startTestDevServer } from '../support/temporal/dev-server';
import { localConfig, tempDir } from '../local/support';
import type { ShopDatabase } from './support';
import { DAY, extractConfigFor, startShopDatabase } from './support';

const CLI = path.resolve(__dirname, '../../bin/pipeline');
const HISTORY_DIR = path.join(__dirname, '..', 'histories');
const RECORD = process.env.RECORD_HISTORIES === '1';
const TASK_QUEUE = 'extract-workflow';
/** Trust authentication ignores it, so it can be planted in the URL and searched for afterwards. */
const PLANTED_PASSWORD = 'planted-pg-secret-4711';

const quick = { pollInterval: '200 ms', retry: { initialInterval: '100 ms', maximumAttempts: 3 } } as const;
const FAST: DeepPartial<PipelineOptions> = {
  stages: {
    awaitRawData: { pollInterval: '1 second' },
    catalog: quick,
    validate: quick,
    transform: quick,
    load: quick,
    verify: quick,
    notify: quick,
  },
  operatorWait: '1 minute',
};

let shop: ShopDatabase;
let temporal: TestDevServer;
let root: string;
let local: LocalConfig;
let url: string;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  [shop, temporal] = await Promise.all([startShopDatabase(), startTestDevServer()]);
  root = tempDir('extract-workflow');
  local = localConfig(root);
  url = shop.url.replace(`${shop.pg.user}@`, `${shop.pg.user}:${PLANTED_PASSWORD}@`);
  const extract = extractConfigFor(url, root);
  const config: AppConfig = {
    backend: 'local',
    logLevel: 'warn',
    temporal: { address: temporal.address, namespace: temporal.namespace, taskQueue: TASK_QUEUE, webUiUrl: 'http://127.0.0.1:8233' },
    local,
    extract,
  };
  const activities = createLocalActivities(local, { webUiUrl: config.temporal.webUiUrl, extract });
  ({ worker } = await createPipelineWorker({ config, connection: temporal.nativeConnection, activities }));
  running = worker.run();
}, 240_000);

afterAll(async () => {
  worker?.shutdown();
  await running?.catch(() => undefined);
  await temporal?.stop();
  await shop?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

async function runDay(
  workflowId: string,
  options: DeepPartial<PipelineOptions>,
): Promise<{ handle: WorkflowHandle; result: PipelineResult }> {
  const handle = await temporal.client.workflow.start(WORKFLOW_TYPE, {
    taskQueue: TASK_QUEUE,
    workflowId,
    args: [{ runDate: DAY, trigger: 'manual', options }],
  });
  return { handle, result: await finish(handle) };
}

/** The run's result, or at once the failed stage's message when the run stops to wait for an operator. */
async function finish(handle: WorkflowHandle): Promise<PipelineResult> {
  const outcome = handle.result() as Promise<PipelineResult>;
  for (;;) {
    const done = await Promise.race([outcome, new Promise<undefined>((r) => setTimeout(r, 500, undefined))]);
    if (done) return done;
    const status = await handle.query(statusQuery).catch(() => undefined);
    if (status?.state === 'awaiting_operator') {
      const failed = status.stages.find((x) => x.state === 'failed');
      throw new Error(`the run waits for an operator: ${failed?.stage} failed: ${failed?.message}`);
    }
  }
}

function stagesOf(status: PipelineStatus) {
  return Object.fromEntries(status.stages.map((s) => [s.stage, s]));
}

async function scheduledActivities(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).flatMap((e) =>
    e.activityTaskScheduledEventAttributes?.activityType?.name ? [e.activityTaskScheduledEventAttributes.activityType.name] : [],
  );
}

async function markers(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).flatMap((e) =>
    Object.values(e.markerRecordedEventAttributes?.details ?? {}).flatMap((p) =>
      (p.payloads ?? []).map((x) => Buffer.from(x.data ?? []).toString()),
    ),
  );
}

describe('the extract stage in a whole run', () => {
  it('extracts the day from PostgreSQL, then runs the rest of the day on the local backend', async () => {
    const { handle, result } = await runDay('extract', { ...FAST, stages: { ...FAST.stages, extract: { enabled: true } } });
    expect(result.state).toBe('succeeded');
    const status = await handle.query(statusQuery);
    const s = stagesOf(status);
    expect(status.stages.map((x) => x.stage)).toEqual([...STAGES]);
    for (const stage of STAGES) expect(s[stage]?.state, `${stage}: ${s[stage]?.message}`).toBe('succeeded');
    expect(s.extract!.metrics).toMatchObject({ 'customers.rows': 3, 'products.rows': 2, 'orders.rows': 3 });
    for (const entity of ['customers', 'products', 'orders']) {
      expect(s.extract!.metrics[`${entity}.bytes`]).toBe(fs.statSync(path.join(local.lakeDir, s.extract!.externalIds[entity]!)).size);
      expect(s.awaitRawData!.metrics[`${entity}.files`]).toBe(1);
    }
    expect(s.catalog!.metrics).toMatchObject({ 'customers.rows': 3, 'products.rows': 2, 'orders.rows': 3 });
    expect(s.verify!.metrics['orders.warehouse_rows']).toBe(3);
    expect(await scheduledActivities(handle)).toEqual(expect.arrayContaining(['extractEntity']));
    expect((await scheduledActivities(handle)).filter((n) => n === 'extractEntity')).toHaveLength(3);
    expect((await markers(handle)).some((m) => m.includes('extract-stage'))).toBe(true);
    // The connection is the worker's: neither its password nor the URL is in the history or the status.
    const history = historyToJSON(await handle.fetchHistory());
    for (const text of [history, JSON.stringify(status)]) {
      expect(text).not.toContain(PLANTED_PASSWORD);
      expect(text).not.toContain(`${shop.pg.host}:${shop.pg.port}`);
    }
    if (RECORD) fs.writeFileSync(path.join(HISTORY_DIR, 'extract.json'), history);
  }, 180_000);

  it('shows the stage skipped and records no extract activity when extract is not on', async () => {
    const { handle, result } = await runDay('no-extract', FAST);
    expect(result.state).toBe('succeeded');
    const s = stagesOf(await handle.query(statusQuery));
    expect(s.extract).toMatchObject({ state: 'skipped', attempts: 0, message: expect.stringMatching(/^extract not configured/) });
    expect(s.verify!.state).toBe('succeeded');
    expect(await scheduledActivities(handle)).not.toContain('extractEntity');
    expect((await markers(handle)).some((m) => m.includes('extract-stage'))).toBe(false);
  }, 180_000);

  it('extracts the day again with `pipeline rerun extract <date>` on the finished run, and `pipeline status` shows it', async () => {
    await shop.db.query('DELETE FROM shop.orders WHERE order_id = 102');
    const env = pipelineCliEnv(temporal, root, TASK_QUEUE);
    // Asynchronously: the worker answering the CLI's status query runs in this process.
    const cli = (...args: string[]) =>
      new Promise<{ status: number; stdout: string; stderr: string }>((resolve) =>
        execFile(CLI, args, { env, cwd: root, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) =>
          resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
    const rerun = await cli('rerun', 'extract', 'no-extract', '-r', 'the shop corrected its orders');
    expect(rerun.stderr).toBe('');
    expect(rerun.stdout).toMatch(/started a new run of 2025-10-27 from extract/);
    const handle = temporal.client.workflow.getHandle('daily-pipeline-2025-10-27');
    const result = await finish(handle);
    expect(result.state).toBe('succeeded');
    const s = stagesOf(await handle.query(statusQuery));
    expect(s.extract).toMatchObject({ state: 'succeeded', attempts: 1 });
    expect(s.extract!.metrics['orders.rows']).toBe(2);
    expect(s.verify!.metrics['orders.warehouse_rows']).toBe(2);
    const status = await cli('status', DAY);
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/│ extract\s+│ succeeded │ 1\s/);
    expect(status.stdout).toMatch(/orders\.rows=2/);
  }, 240_000);
});
