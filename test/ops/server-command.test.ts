/**
 * `pipeline server` as an operator runs it: a dev server on the ports given, with the pipeline's
 * search attributes and the Web UI, histories in a SQLite file beside the warehouse, until Ctrl-C.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, isServerUp } from '../../src/devtools';
import { pipelineCliEnv } from '../support/cli-env';

const CLI = path.join(__dirname, '..', '..', 'bin', 'pipeline');
const DATE = '2025-10-27';

let dir: string;
let env: NodeJS.ProcessEnv;
let port: number;
let uiPort: number;
let server: ChildProcess | undefined;
let serverOut = '';
let serverPid: number | undefined;

function pipeline(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(CLI, args, { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-server-'));
  [port, uiPort] = [await freePort(), await freePort()];
  env = pipelineCliEnv({ address: `127.0.0.1:${port}`, namespace: 'default' }, dir, 'server-command', {
    PIPELINE_FROM_SOURCE: '1',
    PIPELINE_WEB_UI_URL: `http://127.0.0.1:${uiPort}`,
  });
});

afterAll(async () => {
  if (server && server.exitCode === null && server.signalCode === null) {
    server.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  // The dev server is its own process group: never left behind, whatever happened above.
  if (serverPid !== undefined && alive(serverPid)) process.kill(-serverPid, 'SIGKILL');
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('pipeline server', () => {
  it('starts a dev server on the ports given and says where it is', async () => {
    server = spawn(CLI, ['server', '--port', String(port), '--ui-port', String(uiPort)], {
      env,
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (d: Buffer) => (serverOut += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (serverOut += d.toString()));
    const deadline = Date.now() + 180_000;
    while (!/Ctrl-C stops it/.test(serverOut)) {
      if (server.exitCode !== null || Date.now() > deadline) throw new Error(`pipeline server did not start:\n${serverOut}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(serverOut).toContain(`at 127.0.0.1:${port}, namespace default; Web UI http://127.0.0.1:${uiPort}`);
    const dbFile = path.join(dir, 'temporal.sqlite');
    expect(serverOut).toContain(`histories in ${dbFile}; search attributes PipelineRunDate, `);
    expect(fs.existsSync(dbFile)).toBe(true);
    serverPid = Number(/\(pid (\d+)\)/.exec(serverOut)?.[1]);
    expect(alive(serverPid)).toBe(true);
    expect(await isServerUp(`127.0.0.1:${port}`)).toBe(true);
  }, 200_000);

  it('serves the Web UI', async () => {
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = await fetch(`http://127.0.0.1:${uiPort}/`).then(
        (r) => r.status,
        () => 0,
      );
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status).toBe(200);
  });

  it('has the search attributes: a run starts, and is found by PipelineRunDate (to cancel it)', async () => {
    const run = await pipeline('run', '--date', DATE);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toContain(`started daily-pipeline-${DATE}`);
    expect(run.out).toContain(`web UI: http://127.0.0.1:${uiPort}/namespaces/default/workflows/daily-pipeline-${DATE}`);
    // Found by its date, i.e. by the query PipelineRunDate = "...". Visibility is eventually consistent.
    let found: Awaited<ReturnType<typeof pipeline>> | undefined;
    for (let i = 0; i < 20; i++) {
      found = await pipeline('cancel', DATE);
      if (found.code === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(found!.code, found!.err).toBe(0);
    expect(found!.out).toContain(`cancellation requested for daily-pipeline-${DATE}`);
  }, 120_000);

  it('a second one on the same port says so in one line', async () => {
    const again = await pipeline('server', '--port', String(port), '--ui-port', String(uiPort));
    expect(again.code).toBe(1);
    expect(again.err.trim()).toBe(
      `pipeline: a Temporal server already answers at 127.0.0.1:${port}: use it, or start another one with --port and --ui-port`,
    );
  });

  it('stops on Ctrl-C (SIGINT), and the server with it', async () => {
    const exited = new Promise<number | null>((resolve) => server!.once('exit', (code) => resolve(code)));
    server!.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(serverOut).toMatch(/stopping the Temporal dev server \(SIGINT\)\.\.\.\nstopped\n/);
    expect(alive(serverPid!)).toBe(false);
    expect(await isServerUp(`127.0.0.1:${port}`, 1_000)).toBe(false);
  }, 60_000);
});
