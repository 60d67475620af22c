/**
 * The one DuckDB instance of a worker process. A DuckDB file admits one writing process, and writes
 * inside it must not interleave (each job uses transactions), so every job that writes runs through
 * `exclusive`, one at a time: the earliest run date waiting first, then in start order.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBAppender, DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { DuckDBInstance } from '@duckdb/node-api';
import type { LocalConfig } from '../../config';
import { ApplicationFailure } from '@temporalio/common';
import { badConfig } from '../errors';

export type Row = Record<string, unknown>;

export interface Warehouse {
  /**
   * Runs `work` alone, once the work before it has finished. Of the work waiting, that of the earliest
   * `runDate` goes first (work of no date before any), then the longest waiting: a backfill's days
   * finish in date order, each day's later stages ahead of later days' earlier ones, so a day's
   * references see the earlier days loaded and its results arrive while the rest still run.
   */
  exclusive<T>(work: (db: Sql) => Promise<T>, runDate?: string): Promise<T>;
  /** Stops the statement running on the writing connection, if any. */
  interrupt(): void;
  close(): Promise<void>;
}

export interface Sql {
  /** Runs a statement; resolves to the rows it inserted, updated or deleted (0 for others). */
  run(sql: string, params?: DuckDBValue[]): Promise<number>;
  all(sql: string, params?: DuckDBValue[]): Promise<Row[]>;
  one(sql: string, params?: DuckDBValue[]): Promise<Row>;
  /** Bulk insert into a table of this connection (temporary tables included). */
  appender(table: string): Promise<DuckDBAppender>;
}

/**
 * Runs result-less statements, in order, as one call. Each call's answer is a hop through the
 * worker's event loop, which a backfill keeps busy with hundreds of runs; a small day's turns are
 * mostly such hops. The first statement that fails stops the rest, with its own message.
 */
export async function runEach(db: Sql, statements: readonly string[]): Promise<void> {
  if (statements.length > 0) await db.run(statements.join(';\n'));
}

/**
 * How the stages write Parquet. Typed layers (verdicts, silver, gold, rejects) use format v2 pages
 * without dictionaries: ids and amounts are nearly all distinct, so a dictionary is built and then
 * dropped for most columns, and v2's delta encodings make those files less than half the size; at
 * 10M orders that writes each of them about a quarter faster (each statement timed alone on
 * bench/local.ts's 10M-order day). Bronze is all text, read again by validate: there dictionaries
 * pay for themselves in faster reads, so it keeps the default (v1, snappy).
 */
export const PARQUET_TYPED = '(FORMAT parquet, COMPRESSION snappy, PARQUET_VERSION V2, DICTIONARY_SIZE_LIMIT 1)';
export const PARQUET_TEXT = '(FORMAT parquet, COMPRESSION snappy)';

/** Single-quoted SQL string literal (DuckDB table functions take paths as literals, not parameters). */
export function lit(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Double-quoted SQL identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * `expr`, a text that is one of `values`, as an ENUM of them. DuckDB's Parquet writer writes an ENUM
 * column as its dictionary and a small index per row, where it hashes and copies a text column's
 * value for every row: a source file's name over 10M rows cost a write 0.15-0.2 s (timed alone on
 * the same day). The Parquet column is a plain string all the same.
 */
export function asEnum(expr: string, values: readonly string[]): string {
  return `CAST(${expr} AS ENUM(${[...new Set(values)].map(lit).join(', ')}))`;
}

export function listLit(values: readonly string[]): string {
  return `[${values.map(lit).join(', ')}]`;
}

/** BIGINT and HUGEINT arrive as bigint; results leave as JSON-safe numbers. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  return value;
}

function sqlOn(conn: DuckDBConnection): Sql {
  const all = async (sql: string, params?: DuckDBValue[]) => {
    const reader = await conn.runAndReadAll(sql, params);
    return reader.getRowObjectsJS().map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, plain(v)])));
  };
  return {
    async run(sql, params) {
      return (await conn.run(sql, params)).rowsChanged;
    },
    all,
    appender: (table) => conn.createAppender(table),
    async one(sql, params) {
      const rows = await all(sql, params);
      if (rows.length !== 1) throw new Error(`expected one row, got ${rows.length} from: ${sql.slice(0, 120)}`);
      return rows[0];
    },
  };
}

/**
 * Why the warehouse file did not open. Another process holding it is a passing condition (retried:
 * the activity may find the file free, or reach the worker that holds it); anything else, such as a
 * permission problem, is the operator's to fix.
 */
function openFailure(file: string, err: unknown): Error {
  const text = (err as Error).message ?? String(err);
  const holder = /Conflicting lock is held in (.*?) \(PID (\d+)\)/.exec(text);
  if (/Could not set lock/i.test(text)) {
    const who = holder ? `process ${holder[2]} (${holder[1]})` : 'another process';
    return ApplicationFailure.create({
      type: 'WarehouseBusy',
      message: `PIPELINE_WAREHOUSE_PATH: ${file} is open in ${who}: a DuckDB warehouse admits one worker; stop the other worker, or give each its own PIPELINE_WAREHOUSE_PATH`,
      nonRetryable: false,
    });
  }
  return badConfig(`PIPELINE_WAREHOUSE_PATH: cannot open DuckDB file ${file}: ${text.split('\n')[0]}`);
}

/** Who holds the warehouse open, beside it as `<warehouse>.holder.json`, for readers that must wait. */
export interface WarehouseHolder {
  pid: number;
  since: string;
  /** The work in the write turn: "catalog of 2025-10-27 (daily-pipeline-2025-10-27)". */
  work?: string;
}

export function holderPath(warehousePath: string): string {
  return `${warehousePath}.holder.json`;
}

export interface ReadOpenOptions {
  /** How long to wait while a worker writes (default 30 s). */
  waitMs?: number;
  /** Told once, when the file is busy: who holds it, for a "waiting for ..." line. */
  onWait?: (holder: string) => void;
}

/** Who holds the file, from the holder note the worker keeps beside it, or from DuckDB's lock message. */
function describeHolder(warehousePath: string, lockMessage: string): string {
  try {
    const note = JSON.parse(fs.readFileSync(holderPath(warehousePath), 'utf8')) as WarehouseHolder;
    return `${note.work ?? 'a worker'} (process ${note.pid}, since ${note.since})`;
  } catch {
    const pid = /PID (\d+)/.exec(lockMessage)?.[1];
    return pid ? `process ${pid}` : 'another process';
  }
}

/**
 * Opens the warehouse read-only for a reader such as `pipeline query`. A worker holds the file only
 * while a stage writes, so a reader that finds it busy waits a bounded time, saying for what.
 */
export async function openForReading(warehousePath: string, options: ReadOpenOptions = {}): Promise<DuckDBInstance> {
  const deadline = Date.now() + (options.waitMs ?? 30_000);
  let told = false;
  for (;;) {
    try {
      return await DuckDBInstance.create(warehousePath, { access_mode: 'READ_ONLY' });
    } catch (err) {
      const text = (err as Error).message;
      if (!/Could not set lock/i.test(text)) throw err;
      const holder = describeHolder(warehousePath, text);
      if (Date.now() >= deadline) {
        throw new Error(`the warehouse ${warehousePath} is still being written by ${holder}; try again when that stage has finished`);
      }
      if (!told) options.onWait?.(holder);
      told = true;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

export async function openWarehouse(config: LocalConfig): Promise<Warehouse> {
  const dir = path.dirname(config.warehousePath);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw badConfig(`PIPELINE_WAREHOUSE_PATH: cannot create folder ${dir}: ${(err as Error).message}`);
  }
  const options: Record<string, string> = {
    memory_limit: config.duckdbMemoryLimit,
    // Extensions are never downloaded: parquet and json ship inside the binary.
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'true',
  };
  if (config.duckdbThreads) options.threads = String(config.duckdbThreads);
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(config.warehousePath, options);
  } catch (err) {
    throw openFailure(config.warehousePath, err);
  }
  const waiting: { runDate: string; seq: number; start: () => void }[] = [];
  let seq = 0;
  let busy = false;
  let idle: (() => void) | undefined;
  let current: DuckDBConnection | undefined;
  let closed = false;

  function next(): void {
    if (busy) return;
    if (waiting.length === 0) {
      idle?.();
      return;
    }
    let best = 0;
    for (let i = 1; i < waiting.length; i++) {
      const [a, b] = [waiting[i]!, waiting[best]!];
      if (a.runDate < b.runDate || (a.runDate === b.runDate && a.seq < b.seq)) best = i;
    }
    busy = true;
    waiting.splice(best, 1)[0]!.start();
  }

  /**
   * Each write turn on a connection of its own: what a stage defines for itself (temp views and
   * tables) ends with its connection, so no turn spends statements cleaning up after itself or sees
   * what an earlier, failed one left.
   */
  async function turn<T>(work: (db: Sql) => Promise<T>): Promise<T> {
    const conn = await instance.connect();
    current = conn;
    try {
      return await work(sqlOn(conn));
    } finally {
      current = undefined;
      conn.closeSync();
    }
  }

  return {
    exclusive<T>(work: (db: Sql) => Promise<T>, runDate = ''): Promise<T> {
      if (closed) return Promise.reject(new Error('the local warehouse is closed'));
      return new Promise<T>((resolve, reject) => {
        waiting.push({
          runDate,
          seq: seq++,
          start: () =>
            void turn(work)
              .then(resolve, reject)
              .finally(() => {
                busy = false;
                next();
              }),
        });
        next();
      });
    },
    interrupt() {
      current?.interrupt();
    },
    async close() {
      if (closed) return;
      closed = true;
      if (busy || waiting.length > 0) await new Promise<void>((resolve) => (idle = resolve));
      instance.closeSync();
    },
  };
}
