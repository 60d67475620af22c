import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram, reportError } from '../../src/client/main';
import { queryWarehouse } from '../../src/client/commands/query';

let dir: string;
let warehouse: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'query-'));
  warehouse = path.join(dir, 'warehouse.duckdb');
  const db = await DuckDBInstance.create(warehouse);
  const c = await db.connect();
  await c.run(`
    CREATE SCHEMA analytics;
    CREATE TABLE analytics.agg_daily_sales (order_date DATE, total_orders BIGINT, total_revenue DECIMAL(12,2), note VARCHAR);
    INSERT INTO analytics.agg_daily_sales VALUES ('2025-10-26', 990, 45678.90, NULL), ('2025-10-27', 1000, 51234.56, 'late, but fine');
  `);
  c.closeSync();
  db.closeSync();
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => err.push(String(chunk)) > 0);
  let code = 0;
  try {
    const argv = ['node', 'pipeline', 'query', '--warehouse', warehouse, ...args];
    await (await buildProgram(argv)).parseAsync(argv);
  } catch (e) {
    code = reportError(e);
  } finally {
    vi.restoreAllMocks();
  }
  return { out: out.join('\n'), err: err.join('\n'), code };
}

const countRows = async () => (await queryWarehouse(warehouse, 'SELECT count(*) AS n FROM analytics.agg_daily_sales')).rows[0][0];

describe('pipeline query', () => {
  it('prints the rows as a table', async () => {
    const r = await cli('SELECT order_date, total_orders, total_revenue, note FROM analytics.agg_daily_sales ORDER BY order_date');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/order_date.*total_orders.*total_revenue.*note/);
    expect(r.out).toMatch(/2025-10-27.*1000.*51234\.56.*late, but fine/);
    expect(r.out).toMatch(/2025-10-26.*990.*45678\.90.*NULL/);
    expect(r.out).toContain('2 rows');
  });

  it('prints JSON with --json', async () => {
    const r = await cli('FROM analytics.agg_daily_sales ORDER BY order_date', '--json');
    expect(JSON.parse(r.out)).toEqual([
      { order_date: '2025-10-26', total_orders: 990, total_revenue: 45678.9, note: null },
      { order_date: '2025-10-27', total_orders: 1000, total_revenue: 51234.56, note: 'late, but fine' },
    ]);
    // Integers too large for a JS number stay text, digit for digit.
    const big = await cli('SELECT 9007199254740993::BIGINT AS big, 12345678901234567.89::DECIMAL(20,2) AS money', '--json');
    expect(JSON.parse(big.out)).toEqual([{ big: '9007199254740993', money: '12345678901234567.89' }]);
  });

  it('says when more rows matched than it printed', async () => {
    const r = await cli('SELECT * FROM range(10)', '--max-rows', '3');
    expect(r.out).toContain('3 rows shown; more matched');
  });

  it('refuses statements that write, and the warehouse is unchanged', async () => {
    for (const sql of [
      "INSERT INTO analytics.agg_daily_sales VALUES ('2025-10-28', 1, 1, 'x')",
      'DELETE FROM analytics.agg_daily_sales',
      'DROP TABLE analytics.agg_daily_sales',
      "COPY analytics.agg_daily_sales TO '/tmp/out.csv'",
    ]) {
      const r = await cli(sql);
      expect(r.code, sql).toBe(1);
      expect(r.err, sql).toMatch(/pipeline: pipeline query only reads, and this statement is (INSERT|DELETE|DROP|COPY);/);
    }
    const two = await cli('SELECT 1; SELECT 2');
    expect(two.err).toContain('one statement at a time');
    expect(await countRows()).toBe('2');
  });

  it('reports SQL errors as one line', async () => {
    const r = await cli('SELECT nope FROM analytics.agg_daily_sales');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^pipeline: .*nope/);
  });

  it('says plainly when there is no warehouse yet and how to make one', async () => {
    const r = await cli('SELECT 1', '--warehouse', path.join(dir, 'missing.duckdb'));
    expect(r.code).toBe(1);
    expect(r.err).toContain(`no warehouse at ${path.join(dir, 'missing.duckdb')} yet`);
    expect(r.err).toContain('pipeline generate');
  });

  it('says plainly when another process keeps the warehouse past --wait', async () => {
    // Another process holding the file open for writing, as a local worker does.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `
      const { DuckDBInstance } = require('@duckdb/node-api');
      DuckDBInstance.create(${JSON.stringify(warehouse)}).then(() => { console.log('ready'); setInterval(() => {}, 1000); });
    `,
      ],
      { cwd: path.join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const [chunk] = (await once(holder.stdout!, 'data')) as [Buffer];
      expect(chunk.toString()).toContain('ready');
      const r = await cli('--wait', '1', 'SELECT 1');
      expect(r.code).toBe(1);
      expect(r.err).toContain(`pipeline: waiting for the worker: the warehouse is in use by process ${holder.pid}`);
      expect(r.err).toContain(
        `the warehouse ${warehouse} is still being written by process ${holder.pid}; try again when that stage has finished`,
      );
    } finally {
      holder.kill();
      await once(holder, 'exit');
    }
  });
});
