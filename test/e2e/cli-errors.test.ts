/**
 * Every mistake an operator can make at the command line ends in one line on stderr, `pipeline: ...`,
 * saying what is wrong and what to do next: no stack trace. Driven through bin/pipeline against real
 * dev servers (one with the pipeline's search attributes, one without), and with no server at all.
 * Also: `pipeline replay --file` replays an exported history whatever the file is called.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printable, statusTable } from '../../src/client/format';
import { freePort, startDevServer } from '../../src/devtools';
import type { DevServerHandle } from '../../src/devtools';
import type { PipelineStatus } from '../../src/workflows/definitions';
import { SA_RUN_DATE, SA_STAGE, SA_STATUS, SA_TRIGGER } from '../../src/workflows/definitions';
import { pipelineCliEnv } from '../support/cli-env';
import { startTestDevServer } from '../support/temporal/dev-server';
import type { TestDevServer } from '../support/temporal/dev-server';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'pipeline');
const HISTORIES = path.join(ROOT, 'test', 'histories');
const TASK_QUEUE = 'cli-errors';
/** A closed run: started on a task queue no worker polls, then terminated. */
const CLOSED_DATE = '2025-10-20';
const CLOSED_ID = `daily-pipeline-${CLOSED_DATE}`;

let server: TestDevServer;
/** A dev server as `temporal server start-dev` starts it: without the pipeline's search attributes. */
let bare: DevServerHandle;
let dir: string;
let env: NodeJS.ProcessEnv;

interface CliResult {
  code: number | null;
  out: string;
  err: string;
  ms: number;
}

/** Asynchronous, so the test runner's own messages keep flowing while the CLI runs. */
function pipeline(args: string[], opts: { env?: NodeJS.ProcessEnv; closeStdout?: boolean } = {}): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(CLI, args, { env: opts.env ?? env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    // The reader of a pipe going away, as `| head -3` does once it has its lines.
    if (opts.closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err, ms: Date.now() - started });
    });
  });
}

/** Exit code `code`, exactly one line on stderr (`pipeline: ...`) matching `pattern`, and no stack trace. */
function expectOneLine(r: CliResult, code: number, pattern: RegExp): void {
  const lines = r.err.split('\n').filter((l) => l.trim() !== '');
  expect(r.err, r.err).not.toMatch(/^\s+at /m);
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(/^pipeline: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.code, r.err).toBe(code);
}

beforeAll(async () => {
  [server, bare] = await Promise.all([startTestDevServer(), startDevServer({ headless: true })]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-cli-errors-'));
  env = pipelineCliEnv(server, dir, TASK_QUEUE, { PIPELINE_FROM_SOURCE: '1' });
  const handle = await server.client.workflow.start('dailyPipeline', {
    taskQueue: TASK_QUEUE,
    workflowId: CLOSED_ID,
    args: [{ runDate: CLOSED_DATE, trigger: 'manual' }],
    typedSearchAttributes: [
      { key: SA_RUN_DATE, value: CLOSED_DATE },
      { key: SA_TRIGGER, value: 'manual' },
      { key: SA_STAGE, value: 'awaitRawData' },
      { key: SA_STATUS, value: 'running' },
    ],
  });
  await handle.terminate('closed for the cli-errors test');
}, 120_000);

afterAll(async () => {
  await Promise.all([server?.stop(), bare?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('CLI mistakes are one line saying what to do next', () => {
  it('a target that is neither a date nor a workflow id', async () => {
    const r = await pipeline(['status', 'not-a-date']);
    expectOneLine(
      r,
      1,
      /^pipeline: no run "not-a-date": it is neither a run date \(YYYY-MM-DD, e\.g\. 2025-10-27\) nor the id of a workflow in namespace default/,
    );
  });

  it('a date that is not a calendar day, as a target and as an option', async () => {
    expectOneLine(await pipeline(['status', '2025-13-45']), 1, /^pipeline: "2025-13-45" is not a date: give a run date as YYYY-MM-DD/);
    const option = await pipeline(['run', '--date', '2025-02-30']);
    expectOneLine(
      option,
      1,
      /^pipeline: option '-d, --date <date>' argument '2025-02-30' is invalid\. expected a date as YYYY-MM-DD, got "2025-02-30" \(see `pipeline run --help`\)$/,
    );
    expect(option.out).toBe('');
  });

  it('a date no run was started for, and a workflow id that does not exist', async () => {
    expectOneLine(
      await pipeline(['status', '2031-01-01']),
      1,
      /^pipeline: no pipeline run for 2031-01-01 in namespace default .*start one with `pipeline run --date 2031-01-01`$/,
    );
    expectOneLine(await pipeline(['skip', 'verify', 'daily-pipeline-2031-01-01']), 1, /^pipeline: no run "daily-pipeline-2031-01-01"/);
    expectOneLine(
      await pipeline(['history', 'export', 'daily-pipeline-2031-01-01', path.join(dir, 'none.json')]),
      1,
      /^pipeline: no workflow daily-pipeline-2031-01-01 in namespace default at 127\.0\.0\.1:\d+/,
    );
    expectOneLine(
      await pipeline(['replay', 'daily-pipeline-2031-01-01']),
      1,
      /^pipeline: no workflow daily-pipeline-2031-01-01 in namespace default/,
    );
  });

  it('a signal or a cancel for a run that is already closed', async () => {
    const closed =
      /^pipeline: run daily-pipeline-2025-10-20 is already closed \(terminated\), so it cannot (skip a stage|be cancelled); .*`pipeline run --date 2025-10-20`/;
    expectOneLine(await pipeline(['skip', 'verify', CLOSED_ID, '-r', 'late orders']), 1, closed);
    expectOneLine(await pipeline(['cancel', CLOSED_ID]), 1, closed);
  });

  it('`rerun` on a finished run redoes its day from that stage in a new run, recorded as a rerun with its reason', async () => {
    const date = '2025-10-21';
    const first = await server.client.workflow.start('dailyPipeline', {
      taskQueue: TASK_QUEUE,
      workflowId: `daily-pipeline-${date}`,
      args: [{ runDate: date, trigger: 'manual' }],
      typedSearchAttributes: [{ key: SA_RUN_DATE, value: date }],
    });
    await first.terminate('finished, for the redo test');
    const r = await pipeline(['rerun', 'transform', date, '-r', 'fixed the price list']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      new RegExp(
        `^run daily-pipeline-${date} had ended \\(terminated\\); started a new run of ${date} from transform \\(earlier stages skipped, PipelineTrigger = "rerun"\\), reason: fixed the price list`,
      ),
    );
    const redo = server.client.workflow.getHandle(`daily-pipeline-${date}`);
    const desc = await redo.describe();
    expect(desc.runId).not.toBe(first.firstExecutionRunId);
    expect(desc.status.name).toBe('RUNNING');
    expect(desc.typedSearchAttributes.get(SA_TRIGGER)).toBe('rerun');
    expect(desc.typedSearchAttributes.get(SA_STAGE)).toBe('transform');
    const started = (await redo.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
    const input = JSON.parse(Buffer.from(started!.input!.payloads![0]!.data!).toString());
    expect(input).toMatchObject({ runDate: date, trigger: 'rerun', startFrom: 'transform', reason: 'fixed the price list' });
    await redo.terminate('end of the redo test');
  });

  it('no server at the address: fails within 3 s, naming the address and `pipeline server`', async () => {
    const port = await freePort();
    const r = await pipeline(['status', '2025-10-27'], { env: { ...env, TEMPORAL_ADDRESS: `127.0.0.1:${port}` } });
    expectOneLine(
      r,
      1,
      new RegExp(
        `^pipeline: no Temporal server answers at 127\\.0\\.0\\.1:${port} \\(namespace default\\): connection refused; start one with \`pipeline server\``,
      ),
    );
    expect(r.ms).toBeLessThan(3_000);
  });

  it('an address where something other than Temporal answers, such as the Web UI port', async () => {
    const web = http.createServer((_req, res) => res.writeHead(404).end('not found'));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    const { port } = web.address() as { port: number };
    try {
      const r = await pipeline(['status', '2025-10-27'], { env: { ...env, TEMPORAL_ADDRESS: `127.0.0.1:${port}` } });
      expectOneLine(
        r,
        1,
        new RegExp(`^pipeline: what answers at 127\\.0\\.0\\.1:${port} is not a Temporal frontend \\(.*\\); check TEMPORAL_ADDRESS`),
      );
      expect(r.ms).toBeLessThan(3_000);
    } finally {
      await new Promise((resolve) => web.close(resolve));
    }
  });

  it('a namespace that does not exist, for the CLI and for a worker', async () => {
    const missing = { ...env, TEMPORAL_NAMESPACE: 'no-such-namespace', PIPELINE_LOG_LEVEL: 'warn' };
    const namespace =
      /^pipeline: namespace no-such-namespace does not exist at 127\.0\.0\.1:\d+: .*; set TEMPORAL_NAMESPACE to an existing one$/;
    expectOneLine(await pipeline(['status', CLOSED_ID], { env: missing }), 1, namespace);
    const worker = await pipeline(['worker'], { env: missing });
    expectOneLine(worker, 1, namespace);
  }, 120_000);

  it('a server without the search attributes: offers the command that registers them, which then works', async () => {
    const bareEnv = { ...env, TEMPORAL_ADDRESS: bare.address, TEMPORAL_NAMESPACE: bare.namespace };
    const hint =
      /lacks the pipeline's search attributes \(Pipeline\w+ is not registered\); register them with `pipeline register-search-attributes`/;
    expectOneLine(await pipeline(['run', '--date', '2025-10-27'], { env: bareEnv }), 1, hint);
    // A run found by its date is searched for with PipelineRunDate = "...": refused as an invalid query.
    expectOneLine(await pipeline(['status', '2025-10-27'], { env: bareEnv }), 1, hint);

    const registered = await pipeline(['register-search-attributes'], { env: bareEnv });
    expect(registered.code, registered.err).toBe(0);
    expect(registered.out).toMatch(/registered search attributes PipelineRunDate, .* in namespace default/);
    expect((await pipeline(['register-search-attributes'], { env: bareEnv })).out).toMatch(/already registered/);

    // The server's search-attribute cache may take a moment to see them.
    let run: CliResult | undefined;
    for (let i = 0; i < 20; i++) {
      run = await pipeline(['run', '--date', '2025-10-27'], { env: bareEnv });
      if (run.code === 0 || !hint.test(run.err)) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(run!.code, run!.err).toBe(0);
    expect(run!.out).toMatch(/started daily-pipeline-2025-10-27/);
  }, 120_000);

  it('output piped into a reader that went away: exits quietly, no EPIPE stack', async () => {
    expect((await pipeline(['schedule', 'create', '--id', 'pipe', '--paused'])).code).toBe(0);
    const r = await pipeline(['schedule', 'describe', '--id', 'pipe'], { closeStdout: true });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('pipeline replay --file', () => {
  it('replays an exported history whose file name has nothing to do with its workflow id', async () => {
    const file = path.join(dir, 'run.json');
    const r = await pipeline(['history', 'export', CLOSED_ID, file]);
    expect(r.code, r.err).toBe(0);
    const exported = JSON.parse(fs.readFileSync(file, 'utf8')) as { workflowId: string; runId: string; events: unknown[] };
    expect(exported.workflowId).toBe(CLOSED_ID);
    expect(exported.runId).toBe((await server.client.workflow.getHandle(CLOSED_ID).describe()).runId);
    const replay = await pipeline(['replay', '--file', file]);
    expect(replay.code, replay.err).toBe(0);
    expect(replay.out).toContain(`replayed ${exported.events.length} events of ${CLOSED_ID} (${file}): the current code is compatible`);
  }, 120_000);

  it('an older export, without the id beside its events, replays under the id its child workflows name', async () => {
    // Recorded under the workflow id "failure-rerun-success"; the file name says nothing of it.
    const file = path.join(dir, 'run.json');
    fs.copyFileSync(path.join(HISTORIES, 'failure-rerun-success.json'), file);
    const replay = await pipeline(['replay', '--file', file]);
    expect(replay.err).toBe('');
    expect(replay.code).toBe(0);
    expect(replay.out).toMatch(/^replayed \d+ events of failure-rerun-success \(.*run\.json\): the current code is compatible/);
  }, 120_000);
});

describe('what the CLI prints of a run cannot drive the terminal', () => {
  it('escapes control characters from a corrupt header in the status table', () => {
    expect(printable('bad\u001b[2Jheader\r\u0000x\ty\u202e')).toBe('bad\\x1b[2Jheader\\x0d\\x00x y\\u202e');
    const status = {
      runDate: '2025-10-27',
      trigger: 'manual',
      state: 'failed',
      currentStage: 'catalog',
      stages: [
        {
          stage: 'catalog',
          state: 'failed',
          attempts: 1,
          externalIds: {},
          metrics: {},
          message: 'raw/orders/2025-10-27/orders.csv: header "id\u001b]0;owned\u0007\rtotal" has no column order_id',
        },
      ],
      operatorActions: [],
    } as unknown as PipelineStatus;
    const table = statusTable(status);
    for (const raw of ['\u001b]0;', '\u0007', '\r']) expect(table).not.toContain(raw);
    expect(table).toContain('\\x1b]0;owned\\x07\\x0dtotal');
  });
});
