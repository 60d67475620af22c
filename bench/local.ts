/**
 * `npm run bench:local`: the local backend's four stages (catalog, validate, transform, load, through
 * the activities the worker runs) on one batch, side by side with its peers on the same files in the
 * same run, alternating, so a noisy machine slows every one alike:
 *
 *   ours    catalog + validate + transform + load (a child process: its peak RSS is its own)
 *   polars  bench/polars_baseline.py, the same contract (checked against the engine: test/bench)
 *   pandas  bench/pandas_baseline.py, the same
 *   floor   DuckDB reading the three CSVs as text and writing Parquet once: no engine can do less
 *
 * The batch is seed001's day (7,500 customers, 600 products, 1,020,500 orders, dirty), or as many
 * orders as `--orders` says, generated once into bench/.cache.
 *
 *   npm run bench:local [-- --runs 3] [-- --orders 10000000] [-- --json] [-- --skip-pandas] [-- --only ours,floor] [-- --clean] [-- --keep]
 *
 * Prints each peer's median wall time and peak RSS and the ratios (with `--json`, one JSON line);
 * nothing here fails on a slow machine.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { link, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import Table from 'cli-table3';
import { DuckDBInstance } from '@duckdb/node-api';
import { createLocalActivities } from '../src/activities/local';
import type { LocalActivities } from '../src/activities/local';
import type { JobStatus, RunRef } from '../src/activities/types';
import { loadLocalConfig } from '../src/config/local';
import { generateLake, SCALES } from '../src/generate';
import type { StageName } from '../src/shared/contract';
import { ENTITIES } from '../src/shared/contract';
import { DEFAULT_QUALITY_THRESHOLDS } from '../src/shared/quality';

const DATE = '2025-10-27';
const SEED = 42;
const POLL_MS = 10;
const CACHE = path.join(__dirname, '.cache');
const GiB = 1024 ** 3;
const STYLE = process.stdout.isTTY ? {} : { head: [], border: [] };
const STAGES = ['catalog', 'validate', 'transform', 'load'] as const;
const PEERS = ['ours', 'polars', 'pandas', 'floor'] as const;
type Peer = (typeof PEERS)[number];
/** The first bar of the performance issue: no slower than Polars, within 3x of the floor, memory held. */
const BAR = { vsPolars: 1.0, vsFloor: 3.0, memorySlackBytes: 0.25 * GiB };

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    orders: { type: 'string' },
    clean: { type: 'boolean', default: false },
    'skip-pandas': { type: 'boolean', default: false },
    only: { type: 'string' },
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    // Internal: run one peer in this child process and print its result as JSON.
    child: { type: 'string' },
    lake: { type: 'string' },
    out: { type: 'string' },
  },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string) => (args.json ? process.stderr : process.stdout).write(`${line}\n`);

interface PeerResult {
  seconds: number;
  peakRssBytes: number;
  /** Per entity: read, loaded, rejected, duplicates; orders also revenue. */
  counts: Record<string, Record<string, number>>;
  stages?: Partial<Record<StageName, number>>;
  /** Ours: the process's peak RSS at the end of each stage. */
  rssAfter?: Partial<Record<StageName, number>>;
  version?: string;
}

/** The batch's raw files, generated once per size and flavour (the generator is deterministic). */
async function cachedLake(dirty: boolean, orders: number | undefined): Promise<{ dir: string; rows: number; orders: number }> {
  const size = orders === undefined ? '' : `-o${orders}`;
  const dir = path.join(CACHE, `seed001-${dirty ? 'dirty' : 'clean'}-s${SEED}${size}`);
  const marker = path.join(dir, 'complete.json');
  if (existsSync(marker)) {
    const info = JSON.parse(readFileSync(marker, 'utf8')) as { dir: string; rows: number; orders?: number };
    // Markers written before --orders existed lack the count; such a batch is seed001's.
    return { ...info, orders: info.orders ?? orders ?? SCALES.seed001.orders.total };
  }
  await rm(dir, { recursive: true, force: true });
  log(`generating the batch once into ${dir} ...`);
  const started = performance.now();
  const result = await generateLake({ lakeDir: dir, startDate: DATE, scale: 'seed001', orders, dirty, seed: SEED });
  const rows = result.files.reduce((s, f) => s + f.rows, 0);
  const info = { dir, rows, orders: result.plan.totals.orders };
  log(`  ${rows.toLocaleString('en-US')} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await writeFile(marker, JSON.stringify(info));
  return info;
}

/** A fresh lake whose raw files are hard links to the cached ones: instant, and nothing is copied. */
async function linkRaw(from: string, to: string): Promise<void> {
  for (const entity of ENTITIES) {
    const src = path.join(from, 'raw', entity, DATE);
    const dst = path.join(to, 'raw', entity, DATE);
    await mkdir(dst, { recursive: true });
    for (const name of await readdir(src)) await link(path.join(src, name), path.join(dst, name));
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

async function runStages(acts: LocalActivities): Promise<{
  stages: Partial<Record<StageName, number>>;
  rssAfter: Partial<Record<StageName, number>>;
  metrics: Record<string, number>;
}> {
  const ref = (stage: StageName): RunRef => ({ runDate: DATE, workflowId: `bench-${DATE}`, stage, stageAttempt: 1 });
  const stages: Partial<Record<StageName, number>> = {};
  const rssAfter: Partial<Record<StageName, number>> = {};
  const timed = async <T>(stage: StageName, f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const out = await f();
    stages[stage] = (performance.now() - t) / 1000;
    // The process's high-water mark so far: where it rises tells which stage needs the memory.
    rssAfter[stage] = maxRss();
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
  return { stages, rssAfter, metrics: etl.metrics };
}

const maxRss = () => process.resourceUsage().maxRSS * 1024;

/** In a child process: our four stages on the lake at `--lake`, the warehouse beside it. */
async function childOurs(lakeDir: string): Promise<PeerResult> {
  const runDir = path.dirname(lakeDir);
  const config = loadLocalConfig({
    ...process.env,
    PIPELINE_LAKE_DIR: lakeDir,
    PIPELINE_WAREHOUSE_PATH: path.join(runDir, 'warehouse.duckdb'),
    PIPELINE_OUTBOX_PATH: path.join(runDir, 'notifications.jsonl'),
  });
  const acts = createLocalActivities(config, { webUiUrl: 'http://127.0.0.1:8233' });
  try {
    const started = performance.now();
    const { stages, rssAfter, metrics } = await runStages(acts);
    const seconds = (performance.now() - started) / 1000;
    const counts = Object.fromEntries(
      ENTITIES.map((e) => [e, Object.fromEntries(['read', 'loaded', 'rejected', 'duplicates'].map((k) => [k, metrics[`${e}.${k}`]]))]),
    );
    counts.orders.revenue = metrics['orders.revenue'];
    return { seconds, peakRssBytes: maxRss(), counts, stages, rssAfter };
  } finally {
    await acts.close();
  }
}

/** In a child process: DuckDB's floor, each raw CSV read as text and written as Parquet once. */
async function childFloor(lakeDir: string, outDir: string): Promise<PeerResult> {
  const config = loadLocalConfig(process.env);
  const options: Record<string, string> = { memory_limit: config.duckdbMemoryLimit };
  if (config.duckdbThreads) options.threads = String(config.duckdbThreads);
  const started = performance.now();
  const instance = await DuckDBInstance.create(':memory:', options);
  const db = await instance.connect();
  const counts: Record<string, Record<string, number>> = {};
  for (const entity of ENTITIES) {
    const dir = path.join(lakeDir, 'raw', entity, DATE);
    await mkdir(path.join(outDir, entity), { recursive: true });
    for (const name of (await readdir(dir)).sort()) {
      await db.run(
        `COPY (SELECT * FROM read_csv('${path.join(dir, name)}', all_varchar=true, header=true)) TO '${path.join(outDir, entity, `${name}.parquet`)}' (FORMAT parquet)`,
      );
    }
    const n = await db.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM read_parquet('${path.join(outDir, entity)}/*.parquet')`);
    counts[entity] = { read: Number(n.getRowObjectsJS()[0].n) };
  }
  db.closeSync();
  instance.closeSync();
  return { seconds: (performance.now() - started) / 1000, peakRssBytes: maxRss(), counts };
}

async function runChild(peer: 'ours' | 'floor', lakeDir: string, outDir: string): Promise<PeerResult> {
  const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
  const { stdout } = await promisify(execFile)(tsx, [__filename, '--child', peer, '--lake', lakeDir, '--out', outDir], {
    maxBuffer: 16 * 1024 * 1024,
    env: process.env,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as PeerResult;
}

interface BaselineOutput {
  seconds: { total: number };
  counts: Record<string, Record<string, number>>;
  peak_rss_bytes: number;
  polars?: string;
  pandas?: string;
}

async function runBaseline(script: 'polars' | 'pandas', lakeDir: string, outDir: string): Promise<PeerResult> {
  const file = path.join(__dirname, `${script}_baseline.py`);
  // Started and timed from here like the others: interpreter start-up and imports are part of a job.
  const started = performance.now();
  const { stdout } = await promisify(execFile)('python3', [file, '--lake', lakeDir, '--date', DATE, '--out', outDir], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const seconds = (performance.now() - started) / 1000;
  const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as BaselineOutput;
  return { seconds, peakRssBytes: out.peak_rss_bytes, counts: out.counts, version: out[script] };
}

const secs = (s: number) => `${s.toFixed(2)} s`;
const gib = (b: number) => `${(b / GiB).toFixed(2)} GiB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function parseBytes(limit: string): number {
  const m = /^\s*([\d.]+)\s*([KMGT]?i?B)?\s*$/i.exec(limit);
  if (!m) return NaN;
  const unit = (m[2] ?? 'B').toUpperCase().replace('IB', 'B');
  const power = { B: 0, KB: 1, MB: 2, GB: 3, TB: 4 }[unit] ?? 0;
  return Number(m[1]) * 1024 ** power;
}

/** Where two peers' counts differ (the floor counts only rows read, and is not compared). */
function disagreements(a: PeerResult, b: PeerResult, name: string): string[] {
  const out: string[] = [];
  for (const e of ENTITIES) {
    for (const k of ['read', 'loaded', 'rejected', 'duplicates']) {
      if (a.counts[e]?.[k] !== b.counts[e]?.[k]) out.push(`${e}.${k}: ours ${a.counts[e]?.[k]}, ${name} ${b.counts[e]?.[k]}`);
    }
  }
  const revenue = (r: PeerResult) => r.counts.orders?.revenue ?? NaN;
  if (!(Math.abs(revenue(a) - revenue(b)) <= 0.005)) out.push(`orders.revenue: ours ${revenue(a)}, ${name} ${revenue(b)}`);
  return out;
}

async function main(): Promise<void> {
  if (args.child) {
    const result = args.child === 'ours' ? await childOurs(args.lake!) : await childFloor(args.lake!, args.out!);
    console.log(JSON.stringify(result));
    return;
  }
  const loadAtStart = os.loadavg()[0];
  const runs = Math.max(1, Number(args.runs) || 1);
  const orders = args.orders === undefined ? undefined : Number(args.orders);
  if (orders !== undefined && !(Number.isInteger(orders) && orders > 0))
    throw new Error(`--orders: expected a whole number > 0, got ${args.orders}`);
  const batch = await cachedLake(!args.clean, orders);
  const only = args.only?.split(',').map((p) => p.trim());
  if (only?.some((p) => !(PEERS as readonly string[]).includes(p)))
    throw new Error(`--only: expected some of ${PEERS.join(', ')}, got ${args.only}`);
  const peers = PEERS.filter((p) => (only ? only.includes(p) : !(p === 'pandas' && args['skip-pandas'])));
  await mkdir(CACHE, { recursive: true });
  const work = await mkdtemp(path.join(CACHE, 'run-'));
  const results = Object.fromEntries(peers.map((p) => [p, [] as PeerResult[]])) as Record<Peer, PeerResult[]>;
  try {
    for (let i = 0; i < runs; i++) {
      // Alternating, starting one further each run, so no peer always runs first (cold cache) or last.
      const order = peers.map((_, k) => peers[(k + i) % peers.length]);
      for (const peer of order) {
        const dir = path.join(work, `run-${i + 1}`, peer);
        const lakeDir = path.join(dir, 'lake');
        await linkRaw(batch.dir, lakeDir);
        const out = path.join(dir, 'out');
        const r = peer === 'ours' || peer === 'floor' ? await runChild(peer, lakeDir, out) : await runBaseline(peer, lakeDir, out);
        results[peer].push(r);
        log(`run ${i + 1}/${runs} ${peer}: ${secs(r.seconds)}, peak RSS ${gib(r.peakRssBytes)}`);
        if (!args.keep) await rm(dir, { recursive: true, force: true });
      }
    }
  } finally {
    if (!args.keep) await rm(work, { recursive: true, force: true });
  }

  // A peer left out by --only has no figures: its ratios read NaN.
  const ran = (p: Peer) => (results[p]?.length ?? 0) > 0;
  const wall = (p: Peer) => (ran(p) ? median(results[p].map((r) => r.seconds)) : NaN);
  const rss = (p: Peer) => (ran(p) ? Math.max(...results[p].map((r) => r.peakRssBytes)) : NaN);
  const ours = results.ours?.[0];
  const limit = loadLocalConfig(process.env).duckdbMemoryLimit;
  const limitBytes = parseBytes(limit);
  const checks = {
    vsPolars: wall('ours') / wall('polars'),
    vsFloor: wall('ours') / wall('floor'),
    memory: rss('ours') <= limitBytes + BAR.memorySlackBytes,
  };
  const agreement = Object.fromEntries(
    peers.filter((p) => ran('ours') && (p === 'polars' || p === 'pandas')).map((p) => [p, disagreements(ours, results[p][0], p)]),
  );
  const report = {
    batch: { date: DATE, dirty: !args.clean, rows: batch.rows, orders: batch.orders },
    runs,
    host: { cpus: os.cpus().length, loadAtStart, loadAtEnd: os.loadavg()[0] },
    duckdb: { memoryLimit: limit, threads: process.env.PIPELINE_DUCKDB_THREADS ?? 'default' },
    peers: Object.fromEntries(
      peers.map((p) => [
        p,
        { wallSeconds: wall(p), peakRssBytes: rss(p), runs: results[p].map((r) => r.seconds), version: results[p][0].version },
      ]),
    ),
    stages: Object.fromEntries(STAGES.map((s) => [s, ran('ours') ? median(results.ours.map((r) => r.stages?.[s] ?? 0)) : NaN])),
    peakRssAfterStage: Object.fromEntries(
      STAGES.map((s) => [s, ran('ours') ? Math.max(...results.ours.map((r) => r.rssAfter?.[s] ?? 0)) : NaN]),
    ),
    ratios: {
      oursToPolars: checks.vsPolars,
      oursToFloor: checks.vsFloor,
      ...(peers.includes('pandas') ? { oursToPandas: wall('ours') / wall('pandas') } : {}),
    },
    bar: { vsPolars: BAR.vsPolars, vsFloor: BAR.vsFloor, peakRssBytes: limitBytes + BAR.memorySlackBytes },
    met: { vsPolars: checks.vsPolars <= BAR.vsPolars, vsFloor: checks.vsFloor <= BAR.vsFloor, memory: checks.memory },
    disagreements: agreement,
  };
  if (args.json) {
    console.log(JSON.stringify(report));
    return;
  }

  console.log(
    `\nbatch ${DATE} (${args.clean ? 'clean' : 'dirty'}): ${batch.rows.toLocaleString('en-US')} raw rows, ${batch.orders.toLocaleString('en-US')} orders; ${SCALES.seed001.customers.toLocaleString('en-US')} customers, ${SCALES.seed001.products} products`,
  );
  const table = new Table({
    head: ['', `wall (median of ${runs})`, 'peak RSS', 'ours / it'],
    style: STYLE,
    colAligns: ['left', 'right', 'right', 'right'],
  });
  for (const p of peers) {
    const name =
      p === 'ours'
        ? 'ours: catalog + validate + transform + load'
        : p === 'floor'
          ? 'DuckDB floor: CSV -> Parquet once'
          : `${p} ${results[p][0].version ?? ''}`;
    table.push([name, secs(wall(p)), gib(rss(p)), p === 'ours' ? '' : `${(wall('ours') / wall(p)).toFixed(2)}x`]);
  }
  console.log(table.toString());
  console.log(`our stages: ${STAGES.map((s) => `${s} ${secs(report.stages[s])}`).join(', ')}`);
  console.log(`our peak RSS by the end of: ${STAGES.map((s) => `${s} ${gib(report.peakRssAfterStage[s])}`).join(', ')}`);
  console.log(
    `host: ${os.cpus().length} CPUs, load average ${loadAtStart.toFixed(1)} at start -> ${os.loadavg()[0].toFixed(1)} at end; DuckDB memory limit ${limit}, threads ${report.duckdb.threads}`,
  );
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const bars = new Table({ head: ['bar', 'measured', 'target', ''], style: STYLE });
  bars.push(['ours / polars', `${checks.vsPolars.toFixed(2)}x`, `<= ${BAR.vsPolars.toFixed(1)}x`, mark(report.met.vsPolars)]);
  bars.push(['ours / floor', `${checks.vsFloor.toFixed(2)}x`, `<= ${BAR.vsFloor.toFixed(1)}x`, mark(report.met.vsFloor)]);
  bars.push(['our peak RSS', gib(rss('ours')), `<= ${gib(limitBytes + BAR.memorySlackBytes)} (limit + 0.25)`, mark(checks.memory)]);
  console.log(bars.toString());
  for (const [p, diffs] of Object.entries(agreement)) {
    console.log(
      diffs.length
        ? `${p} and ours DISAGREE: ${diffs.join('; ')}`
        : `${p} and ours agree on every read/loaded/rejected/duplicates count and on revenue`,
    );
  }
  if (args.keep) console.log(`kept ${work}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
