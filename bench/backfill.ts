/**
 * `npm run bench:backfill`: a year of small days (the `small` scale: 200 customers, 50 products,
 * 1,000 orders a day) backfilled through the pipeline schedule, with the local backend, on the
 * Temporal dev server and a real `pipeline worker` process. Prints the total wall time from the
 * backfill request to the last completed run, runs per minute, the worker's peak RSS, and the CPU the
 * worker and the dev server each used (the two share the machine's cores).
 * Target: 365 days in <= 200 s (the goal: 120 s).
 *
 *   npm run bench:backfill [-- --days 365] [-- --overlap allow_all|buffer_all] [-- --poll "1 second"]
 *
 * Runs use the stages' default timings, as a user's backfill does; `--poll` caps every stage's
 * state-read interval instead.
 *
 * The raw files are generated once into bench/.cache and copied into a fresh lake per run.
 * Set BENCH_TEMPORAL_ADDRESS to use a running server instead of starting a dev server.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { startDevServer } from '../src/devtools';
import { generateLake } from '../src/generate';
import { addDays, backfillSchedule, createOrUpdateSchedule, defaultSettings, deleteSchedule, parseOverlap } from '../src/schedule';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../src/workflows/definitions';
import type { DeepPartial, PipelineOptions } from '../src/workflows/definitions';

const FIRST_DATE = '2024-01-01';
const SEED = 42;
const TARGET_SECONDS = 200;
const SCHEDULE_ID = 'bench-backfill';
const TASK_QUEUE = 'bench-backfill';
const ROOT = path.join(__dirname, '..');
const CACHE = path.join(__dirname, '.cache');

const { values: args } = parseArgs({
  options: {
    days: { type: 'string', default: '365' },
    overlap: { type: 'string', default: 'allow_all' },
    poll: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const DAYS = Number(args.days);
const OVERLAP = parseOverlap(args.overlap!);
const LAST_DATE = addDays(FIRST_DATE, DAYS - 1);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Raw files for every day, generated once (the generator is deterministic for a seed). */
async function cachedRaw(): Promise<string> {
  const dir = path.join(CACHE, `backfill-small-${FIRST_DATE}-${DAYS}d-s${SEED}`);
  const marker = path.join(dir, 'complete.json');
  if (existsSync(marker)) return dir;
  await rm(dir, { recursive: true, force: true });
  process.stdout.write(`generating ${DAYS} small days once into ${dir} ... `);
  const started = performance.now();
  const result = await generateLake({ lakeDir: dir, startDate: FIRST_DATE, days: DAYS, scale: 'small', seed: SEED });
  const rows = result.files.reduce((s, f) => s + f.rows, 0);
  console.log(
    `${result.files.length} files, ${rows.toLocaleString('en-US')} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  await writeFile(marker, JSON.stringify({ files: result.files.length, rows }));
  return dir;
}

/** The worker's own resident-memory high-water mark, from the kernel. */
function peakRss(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) the worker has used so far. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of stat, in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function startWorker(env: NodeJS.ProcessEnv, logFile: string): Promise<ChildProcess> {
  const log = createWriteStream(logFile);
  const child = spawn(path.join(ROOT, 'bin', 'pipeline'), ['worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (/worker: backend local/.test(seen)) {
        child.stdout!.off('data', onData);
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the worker exited (${code}) before it started; see ${logFile}`)));
  });
}

async function count(client: Client, status: string): Promise<number> {
  const { count: n } = await client.workflow.count(
    `TemporalScheduledById = "${SCHEDULE_ID}" AND WorkflowType = "dailyPipeline" AND ExecutionStatus = "${status}"`,
  );
  return n;
}

async function main(): Promise<void> {
  const raw = await cachedRaw();
  const work = await mkdtemp(path.join(os.tmpdir(), 'bench-backfill-'));
  await mkdir(path.join(work, 'lake'), { recursive: true });
  await cp(path.join(raw, 'raw'), path.join(work, 'lake', 'raw'), { recursive: true });

  const existing = process.env.BENCH_TEMPORAL_ADDRESS;
  if (!existing) console.log('starting the Temporal dev server ...');
  const server = existing
    ? { address: existing, namespace: 'default', pid: undefined, stop: async () => undefined }
    : await startDevServer({ headless: true, searchAttributes: [...CUSTOM_SEARCH_ATTRIBUTES] });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: server.namespace,
    PIPELINE_TASK_QUEUE: TASK_QUEUE,
    PIPELINE_BACKEND: 'local',
    PIPELINE_LOG_LEVEL: 'warn',
    PIPELINE_LAKE_DIR: path.join(work, 'lake'),
    PIPELINE_WAREHOUSE_PATH: path.join(work, 'warehouse.duckdb'),
    PIPELINE_OUTBOX_PATH: path.join(work, 'notifications.jsonl'),
  };
  const logFile = path.join(work, 'worker.log');
  console.log('starting `pipeline worker` ...');
  const worker = await startWorker(env, logFile);
  const workerPid = worker.pid!;

  // Local state reads wait for a job to end, so quick stages are seen done at once with the default
  // adaptive polling; while a day waits its turn behind the others it reads less and less often.
  const poll = args.poll;
  const options: DeepPartial<PipelineOptions> = poll
    ? {
        stages: Object.fromEntries(
          ['awaitRawData', 'catalog', 'validate', 'transform', 'load', 'verify'].map((s) => [s, { pollInterval: poll }]),
        ),
      }
    : {};
  let failed = 0;
  let completed = 0;
  let wallMs = 0;
  let peak: number | undefined;
  let cpu: number | undefined;
  let cpuAtStart: number | undefined;
  let serverCpu: number | undefined;
  let serverCpuAtStart: number | undefined;
  try {
    await createOrUpdateSchedule(client, {
      ...defaultSettings(TASK_QUEUE),
      scheduleId: SCHEDULE_ID,
      options,
      createPaused: { note: 'benchmark: backfill only' },
    });
    console.log(
      `backfilling ${FIRST_DATE}..${LAST_DATE} (${DAYS} days), overlap ${OVERLAP}, ${poll ? `poll interval ${poll}` : 'default stage timings'}`,
    );
    const started = performance.now();
    cpuAtStart = cpuSeconds(workerPid);
    serverCpuAtStart = server.pid === undefined ? undefined : cpuSeconds(server.pid);
    await backfillSchedule(client, SCHEDULE_ID, FIRST_DATE, LAST_DATE, OVERLAP);
    let lastPrint = 0;
    for (;;) {
      completed = await count(client, 'Completed');
      failed = (await count(client, 'Failed')) + (await count(client, 'Terminated')) + (await count(client, 'TimedOut'));
      const elapsed = performance.now() - started;
      if (completed + failed >= DAYS) {
        wallMs = elapsed;
        break;
      }
      if (elapsed - lastPrint > 10_000) {
        lastPrint = elapsed;
        console.log(
          `  ${(elapsed / 1000).toFixed(0)} s: ${completed} completed, ${failed} failed, worker RSS peak ${mib(peakRss(workerPid))}`,
        );
      }
      if (worker.exitCode !== null) throw new Error(`the worker exited (${worker.exitCode}); see ${logFile}`);
      await sleep(500);
    }
  } finally {
    peak = peakRss(workerPid);
    cpu = cpuSeconds(workerPid);
    serverCpu = server.pid === undefined ? undefined : cpuSeconds(server.pid);
    worker.kill('SIGTERM');
    await new Promise((resolve) => (worker.exitCode !== null ? resolve(null) : worker.once('exit', resolve)));
    await deleteSchedule(client, SCHEDULE_ID).catch(() => undefined);
    await connection.close();
    await server.stop();
    if (!args.keep) await rm(work, { recursive: true, force: true });
  }
  const minutes = wallMs / 60_000;
  console.log('');
  console.log(`days backfilled:     ${DAYS} (${completed} completed, ${failed} failed)`);
  console.log(
    `total wall time:     ${(wallMs / 1000).toFixed(1)} s   (target <= ${TARGET_SECONDS} s: ${wallMs / 1000 <= TARGET_SECONDS ? 'met' : 'MISSED'})`,
  );
  console.log(`runs per minute:     ${(completed / minutes).toFixed(1)}`);
  console.log(`worker peak RSS:     ${mib(peak)}`);
  if (cpu !== undefined && cpuAtStart !== undefined) {
    const used = cpu - cpuAtStart;
    console.log(
      `worker CPU:          ${used.toFixed(0)} s (${((used / (wallMs / 1000)) * 100).toFixed(0)}% of one core; ${((used / completed) * 1000).toFixed(0)} ms per run) on ${os.cpus().length} cores`,
    );
  }
  // The dev server shares the two cores: what it uses is what the runs' events cost it.
  if (serverCpu !== undefined && serverCpuAtStart !== undefined) {
    const used = serverCpu - serverCpuAtStart;
    console.log(
      `dev server CPU:      ${used.toFixed(0)} s (${((used / (wallMs / 1000)) * 100).toFixed(0)}% of one core; ${((used / completed) * 1000).toFixed(0)} ms per run)`,
    );
  }
  if (args.keep) console.log(`kept the lake, warehouse and worker log under ${work}`);
  if (failed > 0) process.exitCode = 1;
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
