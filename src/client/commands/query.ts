import { existsSync } from 'node:fs';
import path from 'node:path';
import { StatementType } from '@duckdb/node-api';
import type { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import Table from 'cli-table3';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { openForReading } from '../../activities/local/warehouse';
import { loadConfig } from '../../config';
import { UserError } from '../errors';
import { plainUnlessTty } from '../format';

export type QueryCell = string | number | boolean | null;

export interface QueryResult {
  columns: string[];
  types: string[];
  rows: QueryCell[][];
  /** True when more rows matched than were read (maxRows). */
  truncated: boolean;
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)$/;

/**
 * DuckDB's JSON form gives 64-bit integers and decimals as text so no digit is lost; a value that
 * survives the trip through a JS number becomes a number, which is what JSON readers expect.
 */
export function asNumberWhenExact(value: QueryCell, type: string): QueryCell {
  if (typeof value !== 'string' || !NUMERIC.test(type)) return value;
  const n = Number(value);
  if (!Number.isFinite(n)) return value;
  const scale = /^DECIMAL\(\d+,(\d+)\)$/.exec(type)?.[1];
  const back = scale === undefined ? String(n) : n.toFixed(Number(scale));
  return back === value ? n : value;
}

const READ_ONLY_TYPES = new Set<StatementType>([StatementType.SELECT, StatementType.EXPLAIN]);

/** Only reads are run: the file is opened read-only, and the statement kind is checked first for a clear message. */
async function checkReadOnly(connection: DuckDBConnection, sql: string): Promise<void> {
  const statements = await connection.extractStatements(sql).catch((err: Error) => {
    throw new UserError(err.message);
  });
  if (statements.count === 0) throw new UserError('no SQL statement given');
  if (statements.count > 1) throw new UserError(`give one statement at a time (got ${statements.count})`);
  let type: StatementType;
  try {
    type = (await statements.prepare(0)).statementType;
  } catch (err) {
    // Parse and bind errors: DuckDB's message names the column or table and points at it.
    throw new UserError((err as Error).message);
  }
  if (!READ_ONLY_TYPES.has(type)) {
    throw new UserError(
      `pipeline query only reads, and this statement is ${StatementType[type] ?? type}; use SELECT (or WITH, FROM, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN)`,
    );
  }
}

interface OpenOptions {
  /** Seconds to wait while a worker writes (default 30). */
  waitSeconds?: number;
}

async function openReadOnly(warehousePath: string, options: OpenOptions): Promise<DuckDBInstance> {
  if (!existsSync(warehousePath)) {
    throw new UserError(
      `no warehouse at ${warehousePath} yet. It is created by the load stage of the first local run: ` +
        '`pipeline generate --date YYYY-MM-DD`, then `pipeline run --date YYYY-MM-DD --wait` with a worker running (or simply `pipeline demo`). ' +
        'Set PIPELINE_WAREHOUSE_PATH if it lives elsewhere.',
    );
  }
  try {
    // A worker holds the file only while a stage writes: wait for that, saying for what.
    return await openForReading(warehousePath, {
      waitMs: (options.waitSeconds ?? 30) * 1000,
      onWait: (holder) => console.error(`pipeline: waiting for the worker: the warehouse is in use by ${holder}`),
    });
  } catch (err) {
    const message = (err as Error).message;
    if (/still being written/.test(message)) throw new UserError(message);
    throw new UserError(`cannot open the warehouse ${warehousePath}: ${message.split('\n')[0]}`);
  }
}

/** Runs one read-only statement against the local warehouse file. */
export async function queryWarehouse(
  warehousePath: string,
  sql: string,
  options: { maxRows?: number } & OpenOptions = {},
): Promise<QueryResult> {
  const instance = await openReadOnly(warehousePath, options);
  try {
    const connection = await instance.connect();
    try {
      await checkReadOnly(connection, sql);
      const limit = options.maxRows;
      let reader;
      try {
        reader = limit === undefined ? await connection.runAndReadAll(sql) : await connection.runAndReadUntil(sql, limit + 1);
      } catch (err) {
        throw new UserError((err as Error).message);
      }
      const types = reader.columnTypes().map((t) => t.toString());
      // DuckDB's JSON form: 64-bit integers and decimals as text, every digit kept (DECIMAL(12,2) 5.10 stays "5.10").
      let rows = reader.getRowsJson() as QueryCell[][];
      const truncated = limit !== undefined && (rows.length > limit || !reader.done);
      if (limit !== undefined) rows = rows.slice(0, limit);
      return { columns: reader.columnNames(), types, rows, truncated };
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

function cellText(value: QueryCell): string {
  if (value === null) return 'NULL';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** No rule between rows: long results stay readable. */
const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

export function renderTable(result: QueryResult): string {
  const table = new Table({
    head: result.columns,
    style: plainUnlessTty(),
    chars: COMPACT,
    colAligns: result.types.map((t) => (NUMERIC.test(t) ? 'right' : 'left')),
  });
  for (const row of result.rows) table.push(row.map(cellText));
  const count = `${result.rows.length} row${result.rows.length === 1 ? '' : 's'}${result.truncated ? ' shown; more matched (raise --max-rows, add LIMIT, or use --json)' : ''}`;
  return `${table.toString()}\n${count}`;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('expected a whole number >= 1');
  return n;
}

export function registerQueryCommand(program: Command): void {
  program
    .command('query')
    .description('run a read-only SQL statement against the local warehouse (DuckDB) and print the rows')
    .argument(
      '<sql>',
      'one SELECT / WITH / FROM / DESCRIBE / SHOW / SUMMARIZE / EXPLAIN statement, e.g. "SELECT * FROM analytics.agg_daily_sales"',
    )
    .option('--json', 'print the rows as a JSON array of objects (all rows)')
    .addOption(new Option('--max-rows <n>', 'rows to print as a table').argParser(positiveInt).default(200))
    .option('--warehouse <file>', 'warehouse file (default: PIPELINE_WAREHOUSE_PATH)')
    .addOption(new Option('--wait <seconds>', 'how long to wait while a worker writes the warehouse').argParser(positiveInt).default(30))
    .action(async (sql: string, opts: { json?: boolean; maxRows: number; warehouse?: string; wait: number }) => {
      const warehousePath = path.resolve(opts.warehouse ?? loadConfig().local.warehousePath);
      const result = await queryWarehouse(warehousePath, sql, { maxRows: opts.json ? undefined : opts.maxRows, waitSeconds: opts.wait });
      if (opts.json) {
        const objects = result.rows.map((row) =>
          Object.fromEntries(result.columns.map((c, i) => [c, asNumberWhenExact(row[i], result.types[i])])),
        );
        console.log(JSON.stringify(objects, null, 2));
      } else {
        console.log(renderTable(result));
      }
    });
}
