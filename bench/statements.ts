/**
 * `npm run bench:statements`: where a small day's engine time goes. The first `--days` of the
 * backfill benchmark's small days (generated once into bench/.cache) run one after another through
 * the local backend's four stages, in this process, without Temporal; every statement of every
 * write turn is timed. Prints the engine time per day and per stage, then the costliest statements.
 *
 *   npm run bench:statements [-- --days 30] [-- --top 25]
 *
 * Beside `bench:backfill` it tells the engine's own cost from what sharing two cores with the
 * orchestration of hundreds of waiting runs adds.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { DuckDBValue } from '@duckdb/node-api';
import { createLocalActivities } from '../src/activities/local';
import type { Sql } from '../src/activities/local';
import type { JobStatus, RunRef } from '../src/activities/types';
import { loadLocalConfig } from '../src/config/local';
import { generateLake } from '../src/generate';
import { addDays } from '../src/schedule';
import type { StageName } from '../src/shared/contract';
import { DEFAULT_QUALITY_THRESHOLDS } from '../src/shared/quality';

const FIRST_DATE = '2024-01-01';
const { values: args } = parseArgs({ options: { days: { type: 'string', default: '30' }, top: { type: 'string', default: '25' } } });
const DAYS = Number(args.days);
const TOP = Number(args.top);

async function until<T extends JobStatus>(read: () => Promise<T>): Promise<T> {
  for (;;) {
    const s = await read();
    if (s.state === 'SUCCEEDED') return s;
    if (s.state !== 'RUNNING') throw new Error(s.message ?? s.state);
  }
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'bench-statements-'));
  const raw = path.join(__dirname, '.cache', `statements-small-${FIRST_DATE}-${DAYS}d-s42`);
  // The generator is deterministic for a seed: the days are made once and kept.
  if (!existsSync(path.join(raw, 'complete'))) {
    await rm(raw, { recursive: true, force: true });
    await generateLake({ lakeDir: raw, startDate: FIRST_DATE, days: DAYS, scale: 'small', seed: 42 });
    await writeFile(path.join(raw, 'complete'), '');
  }
  await mkdir(path.join(work, 'lake'), { recursive: true });
  await cp(path.join(raw, 'raw'), path.join(work, 'lake', 'raw'), { recursive: true });
  const timings = new Map<string, { n: number; ms: number }>();
  const timed = (db: Sql, work: string | undefined): Sql => {
    const stage = (work ?? 'other').split(' ')[0];
    const time =
      <R>(call: (sql: string, params?: DuckDBValue[]) => Promise<R>) =>
      async (sql: string, params?: DuckDBValue[]): Promise<R> => {
        const t = performance.now();
        try {
          return await call(sql, params);
        } finally {
          const key = `${stage} | ${sql.replace(/\s+/g, ' ').slice(0, 100)}`;
          const e = timings.get(key) ?? { n: 0, ms: 0 };
          timings.set(key, { n: e.n + 1, ms: e.ms + performance.now() - t });
        }
      };
    return {
      run: time((s, p) => db.run(s, p)),
      all: time((s, p) => db.all(s, p)),
      one: time((s, p) => db.one(s, p)),
      appender: (t) => db.appender(t),
    };
  };
  const config = loadLocalConfig({
    ...process.env,
    PIPELINE_LAKE_DIR: path.join(work, 'lake'),
    PIPELINE_WAREHOUSE_PATH: path.join(work, 'warehouse.duckdb'),
    PIPELINE_OUTBOX_PATH: path.join(work, 'notifications.jsonl'),
  });
  const acts = createLocalActivities(config, { webUiUrl: 'http://127.0.0.1:8233', wrapWarehouse: timed });
  const perStage: Record<string, number> = {};
  const started = performance.now();
  try {
    for (let i = 0; i < DAYS; i++) {
      const runDate = addDays(FIRST_DATE, i);
      const ref = (stage: StageName): RunRef => ({ runDate, workflowId: `bench-${runDate}`, stage, stageAttempt: 1 });
      const stage = async (name: string, f: () => Promise<unknown>) => {
        const t = performance.now();
        await f();
        perStage[name] = (perStage[name] ?? 0) + performance.now() - t;
      };
      await stage('catalog', async () => {
        const { crawlId } = await acts.startCrawl({ run: ref('catalog') });
        await until(() => acts.getCrawlState({ run: ref('catalog'), crawlId }));
      });
      await stage('validate', async () => {
        const q = await acts.startQuery({ run: ref('validate'), query: 'quality_checks', thresholds: DEFAULT_QUALITY_THRESHOLDS });
        await until(() => acts.getQueryState({ run: ref('validate'), queryId: q.queryId }));
      });
      let etlRunId = '';
      await stage('transform', async () => {
        ({ etlRunId } = await acts.startEtlRun({ run: ref('transform') }));
        await until(() => acts.getEtlRunState({ run: ref('transform'), etlRunId }));
      });
      await stage('load', async () => {
        const { statementId } = await acts.startWarehouseStatements({ run: ref('load'), operation: 'load', etlRunId });
        await until(() => acts.getStatementState({ run: ref('load'), statementId }));
      });
    }
  } finally {
    await acts.close();
    await rm(work, { recursive: true, force: true });
  }
  const total = performance.now() - started;
  console.log(`${DAYS} small days one after another: ${(total / DAYS).toFixed(0)} ms a day`);
  for (const [name, ms] of Object.entries(perStage)) {
    const statements = [...timings.entries()].filter(([k]) => k.startsWith(`${name} |`)).reduce((n, [, v]) => n + v.n, 0);
    console.log(`  ${name.padEnd(9)} ${(ms / DAYS).toFixed(0).padStart(4)} ms a day, ${(statements / DAYS).toFixed(0)} statements`);
  }
  console.log(`\nthe ${TOP} costliest statements (ms a day, calls):`);
  for (const [k, v] of [...timings.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, TOP)) {
    console.log(`${(v.ms / DAYS).toFixed(1).padStart(7)}  ${String(v.n).padStart(5)}  ${k}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
