/** `pipeline schedule ...` as an operator types it, against a real dev server. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDevServer } from '../support/temporal/dev-server';
import type { TestDevServer } from '../support/temporal/dev-server';

const CLI = path.join(__dirname, '..', '..', 'bin', 'pipeline');
let server: TestDevServer;

/** Asynchronous, so the test runner's own messages keep flowing while the CLI runs. */
function pipeline(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const env = {
    ...process.env,
    FORCE_COLOR: '0',
    PIPELINE_FROM_SOURCE: '1',
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: server.namespace,
    PIPELINE_TASK_QUEUE: 'ops-cli',
  };
  return new Promise((resolve) => {
    execFile(CLI, ['schedule', ...args], { encoding: 'utf8', timeout: 90_000, env }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, out: stdout, err: stderr });
    });
  });
}

beforeAll(async () => {
  server = await startTestDevServer();
});

afterAll(async () => {
  await server?.stop();
});

describe('pipeline schedule (CLI)', async () => {
  it('create, create again, change the cron', async () => {
    const created = await pipeline('create', '--id', 'cli', '--time-zone', 'Europe/Paris', '--paused');
    expect(created.code, created.err).toBe(0);
    expect(created.out).toMatch(/schedule cli: created; 40 19 \* \* \* Europe\/Paris, overlap SKIP, task queue ops-cli/);
    const again = await pipeline('create', '--id', 'cli', '--time-zone', 'Europe/Paris');
    expect(again.out).toMatch(/schedule cli: unchanged/);
    const changed = await pipeline(
      'create',
      '--id',
      'cli',
      '--time-zone',
      'Europe/Paris',
      '--cron',
      '15 6 * * mon-fri',
      '--overlap',
      'buffer-one',
    );
    expect(changed.out).toMatch(/schedule cli: updated \(cron, overlap policy\)/);
  });

  it('describe shows the state, the cron, the next run times with their run dates', async () => {
    const r = await pipeline('describe', '--id', 'cli');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/schedule cli in namespace default: PAUSED \(created paused from the CLI\)/);
    expect(r.out).toMatch(/when: +15 6 \* \* mon-fri in Europe\/Paris/);
    expect(r.out).toMatch(/overlap BUFFER_ONE, catch-up window 1 d/);
    expect(r.out).toMatch(/next runs:\n.*\n {2}\d{4}-\d\d-\d\dT0[45]:15:00Z {2}run date \d{4}-\d\d-\d\d/);
    expect(r.out).toMatch(/recent actions:\n {2}\(none yet\)/);
    const json = JSON.parse((await pipeline('describe', '--id', 'cli', '--json')).out) as {
      state: { paused: boolean };
      spec: { timezone: string };
    };
    expect(json.state.paused).toBe(true);
    expect(json.spec.timezone).toBe('Europe/Paris');
  });

  it('pause and unpause', async () => {
    expect((await pipeline('unpause', '--id', 'cli')).out).toMatch(/schedule cli: active/);
    expect((await pipeline('pause', '--id', 'cli', '--note', 'month-end freeze')).out).toMatch(/paused \(month-end freeze\)/);
    expect((await pipeline('describe', '--id', 'cli')).out).toMatch(/PAUSED \(month-end freeze\)/);
  });

  it('says what is wrong with bad input, in one line naming the option', async () => {
    const cron = await pipeline('create', '--id', 'cli', '--cron', '61 19 * * *');
    expect(cron.code).toBe(1);
    expect(cron.err.trim()).toBe('pipeline: --cron: "61 19 * * *": minute "61" is not in 0-59');
    const tz = await pipeline('create', '--id', 'cli', '--time-zone', 'Paris');
    expect(tz.err.trim()).toBe('pipeline: --time-zone: "Paris" is not an IANA time zone (e.g. UTC, Europe/Paris, America/New_York)');
    const range = await pipeline('backfill', '--id', 'cli', '--from', '2025-10-07', '--to', '2025-10-01');
    expect(range.err.trim()).toBe('pipeline: --from: 2025-10-07 is after --to 2025-10-01');
    const policy = await pipeline('trigger', '--id', 'cli', '--overlap', 'whenever');
    expect(policy.err).toMatch(/"whenever" is not one of skip, buffer_one, buffer_all/);
    const missing = await pipeline('describe', '--id', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.err.trim()).toBe('pipeline: no schedule "nope" in namespace default; create it with `pipeline schedule create`');
  });

  it('delete', async () => {
    expect((await pipeline('delete', '--id', 'cli')).out).toMatch(/schedule cli: deleted/);
    expect((await pipeline('describe', '--id', 'cli')).err).toMatch(/no schedule "cli"/);
  });
});
