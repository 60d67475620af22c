/** Shared pieces of the local engine's tests: temp lakes, stage runs through the activities, table dumps. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LocalConfig } from '../../src/config';
import type { LocalActivities, LocalActivitiesOptions, LocalEngine } from '../../src/activities/local';
import { createLocalBackend, VOLATILE_COLUMNS, WAREHOUSE_TABLES } from '../../src/activities/local';
import type { JobStatus, RunRef } from '../../src/activities/types';
import type { StageName } from '../../src/shared/contract';
import { DEFAULT_QUALITY_THRESHOLDS } from '../../src/shared/quality';

export const GOLDEN = path.resolve(__dirname, '../fixtures/golden');
export const GOLDEN_DATE = '2025-10-27';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

export function localConfig(root: string): LocalConfig {
  const lakeDir = path.join(root, 'lake');
  fs.mkdirSync(lakeDir, { recursive: true });
  return {
    lakeDir,
    warehousePath: path.join(root, 'warehouse.duckdb'),
    outboxPath: path.join(root, 'outbox.jsonl'),
    duckdbThreads: 2,
    duckdbMemoryLimit: '1GB',
  };
}

/** Copies raw partitions (a folder holding raw/{entity}/{date}/...) into the lake. */
export function copyRaw(fromRoot: string, lakeDir: string, onlyDate?: string): void {
  const raw = path.join(fromRoot, 'raw');
  for (const entity of fs.readdirSync(raw)) {
    for (const date of fs.readdirSync(path.join(raw, entity))) {
      if (onlyDate && date !== onlyDate) continue;
      fs.cpSync(path.join(raw, entity, date), path.join(lakeDir, 'raw', entity, date), { recursive: true });
    }
  }
}

export function writeRaw(lakeDir: string, entity: string, date: string, name: string, text: string): void {
  const dir = path.join(lakeDir, 'raw', entity, date);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, name), text);
}

/**
 * A local backend as the tests hold it: its activities, through which stages run, with the engine
 * beside them (`engine.query(...)` reads the warehouse). The backend keeps the two apart; `close()`
 * closes both.
 */
export type LocalTestBackend = LocalActivities & { readonly engine: LocalEngine };

export function open(config: LocalConfig, options: Partial<LocalActivitiesOptions> = {}): LocalTestBackend {
  const { activities, engine } = createLocalBackend(config, { webUiUrl: 'http://127.0.0.1:8233', ...options });
  return { ...activities, engine };
}

export function runRef(runDate: string, stage: StageName, stageAttempt = 1, workflowId = `daily-${runDate}`): RunRef {
  return { runDate, workflowId, stage, stageAttempt };
}

/** Polls a job until it leaves RUNNING (jobs are in-process, so this settles quickly). */
export async function settle<T extends JobStatus>(read: () => Promise<T>): Promise<T> {
  for (;;) {
    const st = await read();
    if (st.state !== 'RUNNING') return st;
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface DayResult {
  crawl: JobStatus;
  quality: JobStatus;
  etl: JobStatus;
  etlRunId: string;
  queryId: string;
  load: JobStatus;
  verify: JobStatus;
  verifyRows: (string | number | boolean | null)[][];
}

/** catalog -> validate -> transform -> load -> verify for one date, through the activities. */
export async function runDay(a: LocalActivities, runDate: string, attempt = 1, workflowId = `daily-${runDate}`): Promise<DayResult> {
  const ref = (stage: StageName) => runRef(runDate, stage, attempt, workflowId);
  const c = await a.startCrawl({ run: ref('catalog') });
  const crawl = await settle(() => a.getCrawlState({ run: ref('catalog'), crawlId: c.crawlId }));
  expectState(crawl, 'catalog');
  const q = await a.startQuery({ run: ref('validate'), query: 'quality_checks', thresholds: DEFAULT_QUALITY_THRESHOLDS });
  const quality = await settle(() => a.getQueryState({ run: ref('validate'), queryId: q.queryId }));
  expectState(quality, 'validate');
  const e = await a.startEtlRun({ run: ref('transform') });
  const etl = await settle(() => a.getEtlRunState({ run: ref('transform'), etlRunId: e.etlRunId }));
  expectState(etl, 'transform');
  const l = await a.startWarehouseStatements({ run: ref('load'), operation: 'load', etlRunId: e.etlRunId });
  const load = await settle(() => a.getStatementState({ run: ref('load'), statementId: l.statementId }));
  expectState(load, 'load');
  const v = await a.startWarehouseStatements({ run: ref('verify'), operation: 'verify', etlRunId: e.etlRunId });
  const verify = await settle(() => a.getStatementState({ run: ref('verify'), statementId: v.statementId }));
  expectState(verify, 'verify');
  const page = await a.getStatementResult({ run: ref('verify'), statementId: v.statementId });
  return { crawl, quality, etl, etlRunId: e.etlRunId, queryId: q.queryId, load, verify, verifyRows: page.rows };
}

function expectState(st: JobStatus, stage: string): void {
  if (st.state !== 'SUCCEEDED') throw new Error(`${stage} ended ${st.state}: ${st.message ?? ''}`);
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * A warehouse table as CSV text in the golden files' format: the given columns, every value as
 * DuckDB prints it (decimals keep their 2 places), NULL as an empty field, rows sorted.
 */
export async function tableCsv(a: LocalTestBackend, table: string, columns: string[], orderBy: string, where = 'true'): Promise<string> {
  // Output names differ from the table's, so ORDER BY sorts by the typed columns, not their text.
  const cols = columns.map((c, i) => `CAST("${c}" AS VARCHAR) AS out_${i}`).join(', ');
  const rows = await a.engine.query(`SELECT ${cols} FROM ${table} WHERE ${where} ORDER BY ${orderBy}`);
  const text = (v: unknown) => csvField(v === null ? '' : String(v));
  const lines = [columns.join(','), ...rows.map((r) => columns.map((_, i) => text(r[`out_${i}`])).join(','))];
  return `${lines.join('\n')}\n`;
}

/** Every warehouse table without its volatile columns, for before/after comparisons. */
export async function warehouseState(a: LocalTestBackend): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of WAREHOUSE_TABLES) {
    const described = await a.engine.query(`DESCRIBE analytics.${table}`);
    const columns = described.map((d) => String(d.column_name)).filter((c) => !VOLATILE_COLUMNS[table].includes(c));
    out[table] = await tableCsv(a, `analytics.${table}`, columns, columns.map((c) => `"${c}"`).join(', '));
  }
  return out;
}
