/**
 * End to end through the command line, as an operator would: a real dev server, a `pipeline worker`
 * process with the local backend over generated data, `pipeline run --wait`, `pipeline status`,
 * `pipeline history export` and `pipeline replay` (on a compatible run and on an incompatible one).
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineInput } from '../../src/workflows/definitions';
import { pipelineCliEnv, writeFastOptions } from '../support/cli-env';
import { FakeBackend } from '../../tools/fake-backend';
import { startTestDevServer } from '../support/temporal/dev-server';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'pipeline');
const DATE = '2025-10-27';
const { EventType } = temporal.api.enums.v1;

// The in-process worker below logs every state change at INFO; only problems matter here.
Runtime.install({ logger: new DefaultLogger('WARN') });

let server: Awaited<ReturnType<typeof startTestDevServer>>;
let dir: string;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;
let workerLog = '';

function cli(...args: string[]) {
  const r = spawnSync(CLI, args, { env, cwd: dir, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

beforeAll(async () => {
  server = await startTestDevServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-e2e-'));
  env = pipelineCliEnv(server, dir, 'e2e-pipeline');
  writeFastOptions(dir);
});

afterAll(async () => {
  if (worker && worker.exitCode === null) worker.kill('SIGKILL');
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('pipeline CLI end to end on the dev server with the local backend', () => {
  it('generates a day of raw data', () => {
    const r = cli('generate', '--date', DATE, '--seed', '7');
    expect(r.code, r.out).toBe(0);
    for (const entity of ['customers', 'products', 'orders']) {
      expect(fs.readdirSync(path.join(dir, 'lake', 'raw', entity, DATE)).length).toBeGreaterThan(0);
    }
  });

  it('starts a worker', async () => {
    worker = spawn(CLI, ['worker'], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    worker.stdout!.on('data', (d: Buffer) => (workerLog += d.toString()));
    worker.stderr!.on('data', (d: Buffer) => (workerLog += d.toString()));
    const deadline = Date.now() + 120_000;
    while (!/worker: backend local/.test(workerLog)) {
      if (worker.exitCode !== null || Date.now() > deadline) throw new Error(`worker did not start:\n${workerLog}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  it('`pipeline run --date D --wait` runs every stage', () => {
    const r = cli('run', '--date', DATE, '--wait', '--options', path.join(dir, 'fast.json'));
    expect(r.code, `${r.out}\n--- worker ---\n${workerLog}`).toBe(0);
    expect(r.out).toMatch(/notify\s+succeeded/);
  });

  it('`pipeline status D` shows every stage succeeded', () => {
    const r = cli('status', DATE);
    expect(r.code, r.out).toBe(0);
    for (const stage of ['awaitRawData', 'catalog', 'validate', 'transform', 'load', 'verify', 'notify']) {
      expect(r.out).toMatch(new RegExp(`│ ${stage}\\s+│ succeeded`));
    }
    const json = cli('status', DATE, '--json');
    const status = JSON.parse(json.out) as { state: string; stages: { stage: string; state: string }[] };
    expect(status.state).toBe('succeeded');
    // extract is off unless the run's options turn it on.
    expect(status.stages.find((s) => s.stage === 'extract')?.state).toBe('skipped');
    expect(status.stages.filter((s) => s.stage !== 'extract').every((s) => s.state === 'succeeded')).toBe(true);
  });

  it('finds the run by PipelineRunDate and its final status in the visibility store', async () => {
    const found = [];
    for await (const wf of server.client.workflow.list({ query: `PipelineRunDate = "${DATE}" AND PipelineStatus = "succeeded"` }))
      found.push(wf);
    expect(found.map((w) => w.type)).toEqual(['dailyPipeline']);
    expect(found[0]!.workflowId).toBe(`daily-pipeline-${DATE}`);
  });

  it('wrote one success notice to the outbox and loaded the warehouse', () => {
    const notices = fs
      .readFileSync(path.join(dir, 'notifications.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; runDate: string });
    expect(notices.filter((n) => n.kind === 'succeeded' && n.runDate === DATE)).toHaveLength(1);
  });

  it('`pipeline replay` replays the finished run against the current code', () => {
    const replay = cli('replay', `daily-pipeline-${DATE}`);
    expect(replay.code, replay.out).toBe(0);
    expect(replay.out).toMatch(/compatible/);
  });

  it('`pipeline history export <id> <file>` writes the whole history as JSON', async () => {
    const workflowId = `daily-pipeline-${DATE}`;
    const file = path.join(dir, 'exported-history.json');
    const r = cli('history', 'export', workflowId, file);
    expect(r.code, r.out).toBe(0);

    const onServer = await server.client.workflow.getHandle(workflowId).fetchHistory();
    const exported = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      events: { eventType: string; workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } } }[];
    };
    expect(Array.isArray(exported.events)).toBe(true);
    expect(exported.events.length).toBeGreaterThan(0);
    expect(exported.events).toHaveLength(onServer.events!.length);
    expect(r.out).toContain(`wrote ${onServer.events!.length} events of ${workflowId}`);
    const [first] = exported.events;
    expect(first!.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
    expect(first!.workflowExecutionStartedEventAttributes?.workflowType?.name).toBe('dailyPipeline');
    // The file is in the SDK's JSON history format: it loads back for Worker.runReplayHistory.
    // (`pipeline replay` only takes a workflow id, so the file is not replayed through the CLI.)
    expect(historyFromJSON(exported).events).toHaveLength(onServer.events!.length);
  });

  it('`pipeline replay <id>` exits 3 and names the run when its history does not fit the current code', async () => {
    // A history the current code cannot replay, made without any product hook: an in-process worker
    // runs the deliberately changed dailyPipeline of test/replay/changed-workflow (it sleeps a minute
    // before its first real command) on its own task queue, with the fake backend's activities.
    // The dev server has no time skipping, so the run is cancelled once its first workflow task has
    // recorded the timer: the changed code ends it itself (canceled), and the current code, whose
    // first commands are a search-attribute upsert and the sensor child, not a timer, diverges at
    // that very first command on every replay.
    const workflowId = `changed-pipeline-${DATE}`;
    const taskQueue = 'e2e-changed-workflow';
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: path.join(ROOT, 'test', 'replay', 'changed-workflow', 'index.ts'),
      logger: new DefaultLogger('WARN'),
    });
    const changedWorker = await Worker.create({
      connection: server.nativeConnection,
      namespace: server.namespace,
      taskQueue,
      workflowBundle,
      activities: new FakeBackend().activities(),
    });
    const input: PipelineInput = { runDate: DATE, options: { stages: { awaitRawData: { pollInterval: '1 second' } } } };
    await changedWorker.runUntil(async () => {
      const handle = await server.client.workflow.start('dailyPipeline', { taskQueue, workflowId, args: [input] });
      const deadline = Date.now() + 30_000;
      for (;;) {
        const { events } = await handle.fetchHistory();
        if (events!.some((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED)) break;
        if (Date.now() > deadline) throw new Error(`the changed workflow never started its timer: ${JSON.stringify(events)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await handle.cancel();
      const err = await handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    });

    const { events } = await server.client.workflow.getHandle(workflowId).fetchHistory();
    expect(events!.map((e) => e.eventType)).toContain(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED);

    const replay = cli('replay', workflowId);
    console.log(`pipeline replay ${workflowId} exited ${replay.code}: ${replay.out.trim()}`);
    expect(replay.code, replay.out).toBe(3);
    expect(replay.out).toContain(`nondeterminism: the current workflow code does not replay ${workflowId} (${events!.length} events)`);
    expect(replay.out).not.toMatch(/compatible with this history/);
  });

  it('the worker drains and exits cleanly on SIGTERM', async () => {
    worker!.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => worker!.once('exit', resolve));
    expect(code).toBe(0);
  });
});
