/**
 * End to end through the command line, as an operator would: a real dev server, a `pipeline worker`
 * process with the local backend over generated data, `pipeline run --wait`, `pipeline status`.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelineCliEnv, writeFastOptions } from '../support/cli-env';
import { startTestDevServer } from '../support/temporal/dev-server';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'pipeline');
const DATE = '2025-10-27';

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
    const status = JSON.parse(json.out) as { state: string; stages: { state: string }[] };
    expect(status.state).toBe('succeeded');
    expect(status.stages.every((s) => s.state === 'succeeded')).toBe(true);
  });

  it('finds the run by PipelineRunDate and its final status in the visibility store', async () => {
    const found = [];
    for await (const wf of server.client.workflow.list({ query: `PipelineRunDate = "${DATE}" AND PipelineStatus = "succeeded"` })) found.push(wf);
    expect(found.map((w) => w.type)).toEqual(['dailyPipeline']);
    expect(found[0]!.workflowId).toBe(`daily-pipeline-${DATE}`);
  });

  it('wrote one success notice to the outbox and loaded the warehouse', () => {
    const notices = fs.readFileSync(path.join(dir, 'notifications.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; runDate: string });
    expect(notices.filter((n) => n.kind === 'succeeded' && n.runDate === DATE)).toHaveLength(1);
  });

  it('`pipeline replay` replays the finished run against the current code', () => {
    const replay = cli('replay', `daily-pipeline-${DATE}`);
    expect(replay.code, replay.out).toBe(0);
    expect(replay.out).toMatch(/compatible/);
  });

  it('the worker drains and exits cleanly on SIGTERM', async () => {
    worker!.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => worker!.once('exit', resolve));
    expect(code).toBe(0);
  });
});
