/**
 * `npm run bench:local`: the local backend on the original design's volume (seed001: 7,500 customers,
 * 600 products, 1,020,500 orders in one batch). Times catalog, validate, transform and load through
 * the same activities the worker runs (start, then poll), samples peak memory, then runs the pandas
 * baseline (bench/pandas_baseline.py) on the same files and prints the ratio.
 *
 *   npm run bench:local [-- --runs 3] [-- --clean] [-- --skip-pandas] [-- --keep]
 *
 * Figures are printed next to their targets; nothing here fails on a slow machine.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import Table from 'cli-table3';
import { createLocalActivities } from '../src/activities/local';
import type { LocalActivities } from '../src/activities/local';
import type { JobStatus, RunRef } from '../src/activities/types';
import { loadLocalConfig } from '../src/config/local';
import { generateLake } from '../src/generate';
import type { StageName } from '../src/shared/contract';
import { DEFAULT_QUALITY_THRESHOLDS } from '../src/shared/quality';

const DATE = '2025-10-27';
const SEED = 42;
const TARGET = { totalSeconds: 10, speedup: 10, peakRssBytes: 1.5 * 1024 ** 3 };
const POLL_MS = 10;
const CACHE = path.join(__dirname, '.cache');
const GiB = 1024 ** 3;
const STYLE = process.stdout.isTTY ? {} : { head: [], border: [] };

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    clean: { type: 'boolean', default: false },
    'skip-pandas': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The seed001 files, generated once per flavour and reused (the generator is deterministic). */
async function cachedLake(dirty: boolean): Promise<{ dir: string; rows: number }> {
  const dir = path.join(CACHE, `seed001-${dirty ? 'dirty' : 'clean'}-s${SEED}`);
  const marker = path.join(dir, 'complete.json');
  if (existsSync(marker)) return JSON.parse(readFileSync(marker, 'utf8')) as { dir: string; rows: number };
  await rm(dir, { recursive: true, force: true });
  process.stdout.write(`generating seed001 data once into ${dir} ... `);
  const started = performance.now();
  const result = await generateLake({ lakeDir: dir, startDate: DATE, scale: 'seed001', dirty, seed: SEED });
  const rows = result.files.reduce((s, f) => s + f.rows, 0);
  console.log(`${rows.toLocaleString('en-US')} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await writeFile(marker, JSON.stringify({ dir, rows }));
  return { dir, rows };
}

/** Peak resident memory: sampled often, and the kernel's own high-water mark. */
class MemoryWatch {
  peakSampled = process.memoryUsage().rss;
  private readonly timer = setInterval(() => {
    this.peakSampled = Math.max(this.peakSampled, process.memoryUsage().rss);
  }, 5);

  static highWaterMark(): number | undefined {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
      return m ? Number(m[1]) * 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

async function until<T extends JobStatus>(what: string, read: () => Promise<T>): Promise<T> {
  for (;;) {
    const s = await read();
    if (s.state === 'SUCCEEDED') return s;
    if (s.state !== 'RUNNING') throw new Error(`${what} ended ${s.state}: ${s.message ?? 'no message'}`);
    await sleep(POLL_MS);
  }
}

type StageTimes = Partial<Record<StageName, number>>;

async function runStages(acts: LocalActivities): Promise<{ times: StageTimes; metrics: Record<string, number> }> {
  const ref = (stage: StageName): RunRef => ({ runDate: DATE, workflowId: `bench-${DATE}`, stage, stageAttempt: 1 });
  const times: StageTimes = {};
  const timed = async <T>(stage: StageName, f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const out = await f();
    times[stage] = performance.now() - t;
    return out;
  };

  await timed('catalog', async () => {
    const { crawlId } = await acts.startCrawl({ run: ref('catalog') });
    await until('catalog', () => acts.getCrawlState({ run: ref('catalog'), crawlId }));
  });
  await timed('validate', async () => {
    const { queryId } = await acts.startQuery({ run: ref('validate'), query: 'quality_checks', thresholds: DEFAULT_QUALITY_THRESHOLDS });
    await until('validate', () => acts.getQueryState({ run: ref('validate'), queryId }));
    await acts.getQueryResults({ run: ref('validate'), queryId });
  });
  const etl = await timed('transform', async () => {
    const { etlRunId } = await acts.startEtlRun({ run: ref('transform') });
    const status = await until('transform', () => acts.getEtlRunState({ run: ref('transform'), etlRunId }));
    return { etlRunId, metrics: status.metrics ?? {} };
  });
  await timed('load', async () => {
    const { statementId } = await acts.startWarehouseStatements({ run: ref('load'), operation: 'load', etlRunId: etl.etlRunId });
    await until('load', () => acts.getStatementState({ run: ref('load'), statementId }));
  });
  return { times, metrics: etl.metrics };
}

interface PandasResult {
  seconds: { read: number; transform: number; write: number; total: number };
  counts: Record<string, Record<string, number>>;
  peak_rss_bytes: number;
  pandas: string;
}

async function runPandas(lakeDir: string, outDir: string): Promise<PandasResult> {
  const script = path.join(__dirname, 'pandas_baseline.py');
  const { stdout } = await promisify(execFile)('python3', [script, '--lake', lakeDir, '--date', DATE, '--out', outDir], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as PandasResult;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const gib = (b: number | undefined) => (b === undefined ? 'n/a' : `${(b / GiB).toFixed(2)} GiB`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');

async function main(): Promise<void> {
  const loadAtStart = os.loadavg()[0];
  const runs = Math.max(1, Number(args.runs) || 1);
  const { dir: lake, rows } = await cachedLake(!args.clean);
  await mkdir(CACHE, { recursive: true });
  const work = await mkdtemp(path.join(CACHE, 'run-'));
  const results: { times: StageTimes; total: number; metrics: Record<string, number> }[] = [];
  const watch = new MemoryWatch();
  try {
    for (let i = 0; i < runs; i++) {
      // A fresh lake copy and warehouse per run: the engine writes bronze/silver/gold next to the raw files.
      const runDir = path.join(work, `run-${i + 1}`);
      await cp(path.join(lake, 'raw'), path.join(runDir, 'lake', 'raw'), { recursive: true });
      const config = loadLocalConfig({
        ...process.env,
        PIPELINE_LAKE_DIR: path.join(runDir, 'lake'),
        PIPELINE_WAREHOUSE_PATH: path.join(runDir, 'warehouse.duckdb'),
        PIPELINE_OUTBOX_PATH: path.join(runDir, 'notifications.jsonl'),
      });
      const acts = createLocalActivities(config, { webUiUrl: 'http://127.0.0.1:8233' });
      try {
        const started = performance.now();
        const { times, metrics } = await runStages(acts);
        results.push({ times, total: performance.now() - started, metrics });
      } finally {
        await acts.close();
      }
      console.log(`run ${i + 1}/${runs}: ${secs(results.at(-1)!.total)}`);
    }
  } finally {
    watch.stop();
  }
  const hwm = MemoryWatch.highWaterMark();

  const totalMs = median(results.map((r) => r.total));
  const stageTable = new Table({
    head: ['stage', `wall (median of ${runs})`, 'rows/s'],
    style: STYLE,
    colAligns: ['left', 'right', 'right'],
  });
  for (const stage of ['catalog', 'validate', 'transform', 'load'] as const) {
    const ms = median(results.map((r) => r.times[stage] ?? 0));
    stageTable.push([stage, secs(ms), Math.round(rows / (ms / 1000)).toLocaleString('en-US')]);
  }
  stageTable.push(['total', secs(totalMs), Math.round(rows / (totalMs / 1000)).toLocaleString('en-US')]);

  // Every run loads the same batch, so any run's counts stand for all.
  const m = results[0].metrics;
  console.log(
    `\nlocal backend, seed001 ${args.clean ? 'clean' : 'dirty'} batch ${DATE}: ${rows.toLocaleString('en-US')} raw rows (${m['orders.read']?.toLocaleString('en-US')} orders read, ${m['orders.loaded']?.toLocaleString('en-US')} loaded, ${m['orders.rejected']} rejected, ${m['orders.duplicates']} duplicates)`,
  );
  console.log(stageTable.toString());
  console.log(
    `host: ${os.cpus().length} CPUs, load average ${loadAtStart.toFixed(1)} at start -> ${os.loadavg()[0].toFixed(1)} now; DuckDB threads ${process.env.PIPELINE_DUCKDB_THREADS ?? 'default'}, memory limit ${process.env.PIPELINE_DUCKDB_MEMORY_LIMIT ?? '1GB'}`,
  );
  const peak = Math.max(watch.peakSampled, hwm ?? 0);
  console.log(`peak RSS: sampled ${gib(watch.peakSampled)}, VmHWM ${gib(hwm)} (whole process, DuckDB included)`);

  const summary = new Table({ head: ['figure', 'measured', 'target', ''], style: STYLE });
  summary.push([
    'catalog+validate+transform+load',
    secs(totalMs),
    `<= ${TARGET.totalSeconds} s`,
    mark(totalMs <= TARGET.totalSeconds * 1000),
  ]);
  summary.push(['peak RSS', gib(peak), `<= ${gib(TARGET.peakRssBytes)}`, mark(peak <= TARGET.peakRssBytes)]);

  if (!args['skip-pandas']) {
    process.stdout.write('\nrunning the pandas baseline on the same files ... ');
    const out = path.join(work, 'pandas');
    const p = await runPandas(lake, out);
    console.log(
      `pandas ${p.pandas}: read ${p.seconds.read.toFixed(2)} s, transform ${p.seconds.transform.toFixed(2)} s, write ${p.seconds.write.toFixed(2)} s; peak RSS ${gib(p.peak_rss_bytes)}`,
    );
    const differences = ['customers', 'products', 'orders'].flatMap((e) =>
      ['read', 'loaded', 'rejected', 'duplicates']
        .filter((k) => p.counts[e][k] !== m[`${e}.${k}`])
        .map((k) => `${e}.${k}: pandas ${p.counts[e][k]}, engine ${m[`${e}.${k}`]}`),
    );
    if (Math.abs(p.counts.orders.revenue - m['orders.revenue']) > 0.005)
      differences.push(`orders.revenue: pandas ${p.counts.orders.revenue}, engine ${m['orders.revenue']}`);
    console.log(
      differences.length
        ? `pandas and the engine DISAGREE: ${differences.join('; ')}`
        : 'pandas and the engine agree on every read/loaded/rejected/duplicates count and on revenue',
    );
    const transformOnly = median(results.map((r) => r.times.transform ?? 0));
    const ratio = (p.seconds.total * 1000) / totalMs;
    summary.push([
      'pandas transform / local 4 stages',
      `${ratio.toFixed(1)}x (${p.seconds.total.toFixed(2)} s vs ${secs(totalMs)})`,
      `>= ${TARGET.speedup}x`,
      mark(ratio >= TARGET.speedup),
    ]);
    summary.push([
      'pandas transform / local transform',
      `${((p.seconds.total * 1000) / transformOnly).toFixed(1)}x`,
      '(same work only)',
      '',
    ]);
  }
  console.log(summary.toString());
  if (args.keep) console.log(`kept ${work}`);
  else await rm(work, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
