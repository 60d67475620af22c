/**
 * Crash (issue 3): a real `pipeline worker` process is SIGKILLed during `transform`, a new one is
 * SIGKILLed during `load` (inside its open DuckDB transaction), a third one finishes the run. The run
 * succeeds, the status shows both stages restarted automatically, and the warehouse equals the one an
 * uninterrupted run of the same lake builds: nothing lost, nothing doubled.
 *
 * The killed workers are test/support/holding-worker.ts, a `pipeline worker` whose local backend is
 * given an `onJobProgress` that holds it at a known point of a stage: the job freezes part-way and
 * writes a marker file, and the test kills the process then. The third is `bin/pipeline worker`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalConfig } from '../../src/config';
import type { JobRecord } from '../../src/activities/local';
import { WAREHOUSE_TABLES } from '../../src/activities/local';
import { workflowInterceptorModules } from '../../src/observability';
import { SA_STAGE, statusQuery } from '../../src/workflows/definitions';
import type { PipelineStatus } from '../../src/workflows/definitions';
import { STAGES } from '../../src/shared/contract';
import type { StageName } from '../../src/shared/contract';
import { workflowsEntry } from '../../src/worker';
import { pipelineCliEnv, writeFastOptions } from '../support/cli-env';
import { startTestDevServer } from '../support/temporal/dev-server';
import type { LocalTestBackend } from '../local/support';
import { open, runDay, warehouseState } from '../local/support';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'pipeline');
const HOLDING_WORKER = path.join(ROOT, 'test', 'support', 'holding-worker.ts');
/** TypeScript from source, as bin/pipeline runs it (resolved here: the workers' cwd is a temp folder). */
const TSX_CJS = createRequire(__filename).resolve('tsx/cjs');
const DATE = '2025-10-27';
const WORKFLOW_ID = `daily-pipeline-${DATE}`;

interface Worker {
  child: ChildProcess;
  log: () => string;
}

let server: Awaited<ReturnType<typeof startTestDevServer>>;
let dir: string;
let env: NodeJS.ProcessEnv;
const workers: Worker[] = [];
/** The jobs the killed workers were running. */
const killedJobs: string[] = [];
const opened: LocalTestBackend[] = [];

function cli(...args: string[]) {
  const r = spawnSync(CLI, args, { env, cwd: dir, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

function jobFile(id: string): JobRecord {
  return JSON.parse(fs.readFileSync(path.join(`${env.PIPELINE_WAREHOUSE_PATH!}.jobs`, `${id}.json`), 'utf8')) as JobRecord;
}

function configAt(root: string, lakeDir: string): LocalConfig {
  return {
    lakeDir,
    warehousePath: path.join(root, 'warehouse.duckdb'),
    outboxPath: path.join(root, 'outbox.jsonl'),
    duckdbThreads: 2,
    duckdbMemoryLimit: '1GB',
  };
}

async function until<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  context: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A `pipeline worker` process; with `hold`, the holding worker instead, which freezes in that job
 * (`etl`, `statement:load`) and writes `marker` (see test/support/holding-worker.ts).
 */
async function startWorker(hold?: { job: string; marker: string }): Promise<Worker> {
  const child = hold
    ? spawn(process.execPath, ['--require', TSX_CJS, HOLDING_WORKER, hold.job, hold.marker], {
        env,
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(CLI, ['worker'], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const w = { child, log: () => log };
  workers.push(w);
  const started = await until(
    'the worker to start',
    () => (/worker: backend local/.test(log) ? true : child.exitCode !== null ? false : undefined),
    120_000,
    w.log,
  );
  if (!started) throw new Error(`the worker exited at start-up:\n${log}`);
  return w;
}

async function kill(w: Worker): Promise<NodeJS.Signals | null> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return w.child.signalCode;
  const exited = new Promise<NodeJS.Signals | null>((resolve) => w.child.once('exit', (_code, signal) => resolve(signal)));
  w.child.kill('SIGKILL');
  return exited;
}

async function status(): Promise<PipelineStatus> {
  return server.client.workflow.getHandle(WORKFLOW_ID).query(statusQuery);
}

/**
 * The run's stage as the server last recorded it (a held worker cannot answer a query). The worker
 * reports a workflow task's commands when the task ends, and stage calls are local activities, so
 * quick stages can pass within one task: the server's stage may lag the held one, never lead it.
 */
async function serverStageIndex(): Promise<number> {
  const d = await server.client.workflow.getHandle(WORKFLOW_ID).describe();
  return STAGES.indexOf(d.typedSearchAttributes.get(SA_STAGE) as StageName);
}

/** Waits until worker `w` is frozen in the held job; returns that job's file as the marker names it. */
async function waitForHold(w: Worker, marker: string): Promise<JobRecord> {
  const held = await until(
    `the worker to reach ${marker}`,
    () => {
      if (w.child.exitCode !== null) throw new Error(`the worker exited before the hold:\n${w.log()}`);
      return fs.existsSync(marker) ? (JSON.parse(fs.readFileSync(marker, 'utf8')) as { id: string; pid: number }) : undefined;
    },
    90_000,
    w.log,
  );
  expect(held.pid).toBe(w.child.pid);
  killedJobs.push(held.id);
  return jobFile(held.id);
}

/** Opens the warehouse in this process (no worker may hold it), for reading. */
function openWarehouse(config: LocalConfig): LocalTestBackend {
  const a = open(config);
  opened.push(a);
  return a;
}

async function close(a: LocalTestBackend): Promise<void> {
  opened.splice(opened.indexOf(a), 1);
  await a.close();
}

async function rowCounts(a: LocalTestBackend): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of WAREHOUSE_TABLES) out[table] = Number((await a.engine.query(`SELECT count(*) AS n FROM analytics.${table}`))[0]!.n);
  return out;
}

beforeAll(async () => {
  server = await startTestDevServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-crash-'));
  // One workflow bundle for the three workers, instead of each bundling at start-up.
  const bundle = path.join(dir, 'workflow-bundle.js');
  const { code } = await bundleWorkflowCode({
    workflowsPath: workflowsEntry(),
    workflowInterceptorModules: workflowInterceptorModules(),
    logger: new DefaultLogger('WARN'),
  });
  fs.writeFileSync(bundle, code);
  env = pipelineCliEnv(server, dir, 'crash-pipeline', { PIPELINE_WORKFLOW_BUNDLE: bundle, PIPELINE_DUCKDB_THREADS: '2' });
  writeFastOptions(dir);
});

afterAll(async () => {
  for (const w of workers) await kill(w);
  for (const a of [...opened]) await a.close().catch(() => undefined);
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('a worker killed (SIGKILL) during transform and again during load', () => {
  const transformMarker = () => path.join(dir, 'held-transform.json');
  const loadMarker = () => path.join(dir, 'held-load.json');

  it('generates a day of raw data', () => {
    const r = cli('generate', '--date', DATE, '--seed', '11', '--dirty');
    expect(r.code, r.out).toBe(0);
  });

  it('kills the first worker while its ETL job is running', async () => {
    const w = await startWorker({ job: 'etl', marker: transformMarker() });
    const r = cli('run', '--date', DATE, '--options', path.join(dir, 'fast.json'));
    expect(r.code, r.out).toBe(0);
    const job = await waitForHold(w, transformMarker());
    expect(job).toMatchObject({ kind: 'etl', state: 'RUNNING', owner: { pid: w.child.pid } });
    expect(await serverStageIndex()).toBeLessThanOrEqual(STAGES.indexOf('transform'));
    expect(await kill(w)).toBe('SIGKILL');
  });

  it('kills the second worker inside the load transaction; the warehouse file recovers unchanged', async () => {
    const w = await startWorker({ job: 'statement:load', marker: loadMarker() });
    const job = await waitForHold(w, loadMarker());
    expect(job).toMatchObject({ kind: 'statement', state: 'RUNNING', owner: { pid: w.child.pid } });
    expect(job.id).toMatch(/-load-/);
    expect(await serverStageIndex()).toBeLessThanOrEqual(STAGES.indexOf('load'));
    expect(await kill(w)).toBe('SIGKILL');

    // A copy of the killed worker's warehouse (file and WAL) opens, with none of the load's rows.
    const copy = path.join(dir, 'after-kill');
    fs.mkdirSync(copy);
    for (const suffix of ['', '.wal']) {
      const from = `${env.PIPELINE_WAREHOUSE_PATH!}${suffix}`;
      if (fs.existsSync(from)) fs.copyFileSync(from, path.join(copy, `warehouse.duckdb${suffix}`));
    }
    const a = openWarehouse(configAt(copy, env.PIPELINE_LAKE_DIR!));
    expect(Object.values(await rowCounts(a)).every((n) => n === 0)).toBe(true);
    const catalog = await a.engine.query(`SELECT count(*) AS n FROM bronze.catalog WHERE batch_date = DATE '${DATE}'`);
    expect(Number(catalog[0]!.n)).toBeGreaterThan(0); // what the catalog stage committed is still there
    await close(a);
  });

  it('a third worker completes the run; transform and load each restarted once', async () => {
    const w = await startWorker();
    const handle = server.client.workflow.getHandle(WORKFLOW_ID);
    const result = await Promise.race([
      handle.result(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the run did not finish:\n${w.log()}`)), 90_000)),
    ]);
    expect(result.state).toBe('succeeded');

    const st = await status();
    expect(st.state).toBe('succeeded');
    const stage = (name: string) => st.stages.find((s) => s.stage === name)!;
    for (const name of ['transform', 'load']) {
      expect(stage(name), name).toMatchObject({
        state: 'succeeded',
        attempts: 2,
        metrics: expect.objectContaining({ autoRestarts: 1 }),
        message: expect.stringMatching(/^restarted after: .* was lost: its worker process \d+ is no longer running/),
      });
    }
    for (const name of ['awaitRawData', 'catalog', 'validate', 'verify', 'notify']) {
      expect(stage(name), name).toMatchObject({ state: 'succeeded', attempts: 1 });
    }
    // The killed workers' jobs were found lost (their pid is gone) and started again under new ids.
    expect(killedJobs).toHaveLength(2);
    for (const id of killedJobs) {
      expect(jobFile(id), id).toMatchObject({ state: 'FAILED', retryable: true, message: expect.stringMatching(/is no longer running/) });
    }
    expect(stage('transform').externalIds.etlRunId).not.toBe(killedJobs[0]);
    expect(stage('load').externalIds.statementId).not.toBe(killedJobs[1]);
    const notices = fs
      .readFileSync(env.PIPELINE_OUTBOX_PATH!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string });
    expect(notices.map((n) => n.kind)).toEqual(['succeeded']);

    // Stop it gracefully so this process can open the warehouse.
    w.child.kill('SIGTERM');
    expect(await new Promise((resolve) => w.child.once('exit', resolve))).toBe(0);
  });

  it('the warehouse equals that of an uninterrupted run of the same lake', async () => {
    const crashed = openWarehouse(configAt(dir, env.PIPELINE_LAKE_DIR!));
    const crashedState = await warehouseState(crashed);
    const crashedCounts = await rowCounts(crashed);
    const duplicates = await crashed.engine.query(
      `SELECT (SELECT count(*) - count(DISTINCT order_id) FROM analytics.fact_orders) AS orders,
              (SELECT count(*) - count(DISTINCT customer_id) FROM analytics.dim_customers) AS customers,
              (SELECT count(*) - count(DISTINCT product_id) FROM analytics.dim_products) AS products,
              (SELECT count(*) - count(DISTINCT (entity, source_file, row_number)) FROM analytics.rejects) AS rejects`,
    );
    await close(crashed);

    // The uninterrupted run: the same lake, a warehouse of its own, every stage once.
    const refRoot = path.join(dir, 'uninterrupted');
    fs.mkdirSync(refRoot);
    const ref = openWarehouse(configAt(refRoot, env.PIPELINE_LAKE_DIR!));
    await runDay(ref, DATE);
    const refState = await warehouseState(ref);
    const refCounts = await rowCounts(ref);
    await close(ref);

    for (const table of WAREHOUSE_TABLES) expect(crashedState[table], table).toBe(refState[table]);
    expect(crashedCounts).toEqual(refCounts);
    expect(crashedCounts.load_audit).toBe(1);
    for (const table of ['dim_customers', 'dim_products', 'fact_orders', 'agg_daily_sales', 'rejects'] as const) {
      expect(crashedCounts[table], table).toBeGreaterThan(0);
    }
    expect(Object.values(duplicates[0]!).map(Number)).toEqual([0, 0, 0, 0]);
  });
});
