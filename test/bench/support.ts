/**
 * What test/bench compares the benchmark's peers with: a batch's Parquet tables read through DuckDB
 * into comparable text (decimals with 2 places, dates ISO, raw records as parsed JSON), the
 * comparison itself, and the baselines run as the bench runs them.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

export const ROOT = path.resolve(__dirname, '../..');

/** The tables a transform writes, as globs under a `processed/` root (rejects: one table or one per entity). */
export const BATCH_TABLES = [
  'silver/customers',
  'silver/products',
  'silver/orders',
  'gold/dim_customers',
  'gold/dim_products',
  'gold/fact_orders',
  'gold/agg_daily_sales',
  'rejects/*',
] as const;

export function batchGlob(root: string, table: string, date: string): string {
  return path.join(root, 'processed', table, `batch_date=${date}`, '*.parquet');
}

export interface Table {
  columns: string[];
  /** DuckDB's type of each column as the Parquet holds it. */
  types: string[];
  /** Each row as JSON text of its comparable values, sorted. */
  rows: string[];
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** How a column is compared: money and other numbers with a point as 2-place text, dates as ISO days. */
function comparable(column: string, type: string): string {
  const c = quote(column);
  if (/^(DECIMAL|DOUBLE|FLOAT|REAL)/.test(type)) return `CAST(CAST(${c} AS DECIMAL(18,2)) AS VARCHAR)`;
  if (/^(DATE|TIMESTAMP)/.test(type)) return `strftime(CAST(${c} AS DATE), '%Y-%m-%d')`;
  return `CAST(${c} AS VARCHAR)`;
}

/** A raw record compared as JSON: the same keys in the same order with the same values, whatever the spacing. */
function canonicalJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.stringify(JSON.parse(value)) : value;
}

export async function readTable(glob: string): Promise<Table> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    // The folder's batch_date=D is not read as a column: each file holds its own batch_date.
    const scan = `read_parquet('${glob.replace(/'/g, "''")}', union_by_name = true, hive_partitioning = false)`;
    const described = (await c.runAndReadAll(`DESCRIBE SELECT * FROM ${scan}`)).getRowObjectsJson();
    const columns = described.map((d) => String(d.column_name));
    const types = described.map((d) => String(d.column_type));
    const select = columns.map((name, i) => comparable(name, types[i])).join(', ');
    const raw = columns.indexOf('raw_record');
    const rows = (await c.runAndReadAll(`SELECT ${select} FROM ${scan}`))
      .getRowsJson()
      .map((r) => JSON.stringify(raw < 0 ? r : r.map((v, i) => (i === raw ? canonicalJson(v) : v))))
      .sort();
    return { columns, types, rows };
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/**
 * Every way `peer` differs from `engine`: other columns (or, with `types`, other column types), and
 * rows that one side holds more often than the other (the first few of each, for the message).
 * Empty when they are the same table.
 */
export function tableDifferences(name: string, engine: Table, peer: Table, options: { types?: boolean } = {}): string[] {
  const out: string[] = [];
  if (engine.columns.join(',') !== peer.columns.join(','))
    out.push(`${name}: columns [${peer.columns}] where the engine has [${engine.columns}]`);
  else if (options.types && engine.types.join(',') !== peer.types.join(','))
    out.push(`${name}: column types [${peer.types}] where the engine has [${engine.types}]`);
  const balance = new Map<string, number>();
  for (const r of engine.rows) balance.set(r, (balance.get(r) ?? 0) + 1);
  for (const r of peer.rows) balance.set(r, (balance.get(r) ?? 0) - 1);
  const onlyEngine = [...balance].filter(([, n]) => n > 0).map(([r]) => r);
  const onlyPeer = [...balance].filter(([, n]) => n < 0).map(([r]) => r);
  const show = (rows: string[]) => rows.slice(0, 5).join('; ') + (rows.length > 5 ? `; ... (${rows.length} in all)` : '');
  if (onlyEngine.length) out.push(`${name}: ${onlyEngine.length} row(s) only the engine wrote: ${show(onlyEngine)}`);
  if (onlyPeer.length) out.push(`${name}: ${onlyPeer.length} row(s) only the peer wrote: ${show(onlyPeer)}`);
  return out;
}

export interface BaselineResult {
  seconds: { read: number; transform: number; write: number; total: number };
  counts: Record<string, Record<string, number>>;
  peak_rss_bytes: number;
}

/** Runs a baseline as the bench does (`--lake --date --out`); its one JSON line, or a failure holding its output. */
export function runBaseline(script: string, lakeDir: string, date: string, outDir: string): Promise<BaselineResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [path.join(ROOT, 'bench', script), '--lake', lakeDir, '--date', date, '--out', outDir], {
      cwd: ROOT,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${script} exited ${code}: ${stderr.trim().slice(-2000)}`));
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as BaselineResult);
    });
  });
}
