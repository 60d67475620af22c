/**
 * The benchmark's pandas baseline must do the same work as the engine, or the ratio means nothing:
 * on a small dirty day its counts match the generator's plan, and its gold tables match the
 * warehouse the local backend loads from the same files.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalActivities } from '../../src/activities/local';
import type { JobStatus, RunRef } from '../../src/activities/types';
import type { GenerateResult } from '../../src/generate';
import { generateLake } from '../../src/generate';
import type { StageName } from '../../src/shared/contract';
import { FIELD_REJECT_REASONS } from '../../src/shared/contract';

const DATE = '2025-10-27';
const SCRIPT = path.join(__dirname, '..', '..', 'bench', 'pandas_baseline.py');

let dir: string;
let plan: GenerateResult['plan'];
let pandas: { counts: Record<string, Record<string, number>> };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pandas-baseline-'));
  plan = (await generateLake({ lakeDir: path.join(dir, 'lake'), startDate: DATE, dirty: true, seed: 11 })).plan;
  const { stdout } = await promisify(execFile)('python3', [
    SCRIPT,
    '--lake',
    path.join(dir, 'lake'),
    '--date',
    DATE,
    '--out',
    path.join(dir, 'pandas'),
  ]);
  pandas = JSON.parse(stdout) as typeof pandas;
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function rowsOf(sql: string, file?: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(file ?? ':memory:', file ? { access_mode: 'READ_ONLY' } : undefined);
  const c = await db.connect();
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

const gold = (table: string) => `'${path.join(dir, 'pandas', 'processed', 'gold', table, `batch_date=${DATE}`, 'part-00000.parquet')}'`;

describe('bench/pandas_baseline.py', () => {
  it('counts what the generator planned', () => {
    const day = plan.days[0];
    const injected = (e: 'customers' | 'products' | 'orders') => FIELD_REJECT_REASONS.reduce((s, r) => s + (day.injections[e][r] ?? 0), 0);
    expect(pandas.counts.customers).toMatchObject({
      loaded: day.customers,
      rejected: injected('customers'),
      duplicates: day.injections.customers.exact_duplicate,
    });
    expect(pandas.counts.products).toMatchObject({
      loaded: day.products,
      rejected: injected('products'),
      duplicates: day.injections.products.exact_duplicate,
    });
    expect(pandas.counts.orders).toMatchObject({
      loaded: day.orders,
      rejected: injected('orders'),
      duplicates: day.injections.orders.exact_duplicate,
    });
  });

  it('writes the same facts, dimensions, rejects and daily sales as the local backend', async () => {
    const config = {
      lakeDir: path.join(dir, 'lake'),
      warehousePath: path.join(dir, 'warehouse.duckdb'),
      outboxPath: path.join(dir, 'outbox.jsonl'),
      duckdbMemoryLimit: '1GB',
    };
    const acts = createLocalActivities(config, { webUiUrl: 'http://127.0.0.1:8233' });
    const ref = (stage: StageName): RunRef => ({ runDate: DATE, workflowId: 'pandas-check', stage, stageAttempt: 1 });
    const until = async (read: () => Promise<JobStatus>) => {
      for (;;) {
        const s = await read();
        if (s.state !== 'RUNNING') return s;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      const { crawlId } = await acts.startCrawl({ run: ref('catalog') });
      expect((await until(() => acts.getCrawlState({ run: ref('catalog'), crawlId }))).state).toBe('SUCCEEDED');
      const { etlRunId } = await acts.startEtlRun({ run: ref('transform') });
      const etl = await until(() => acts.getEtlRunState({ run: ref('transform'), etlRunId }));
      expect(etl.state).toBe('SUCCEEDED');
      for (const e of ['customers', 'products', 'orders']) {
        for (const m of ['read', 'loaded', 'rejected', 'duplicates'])
          expect(etl.metrics?.[`${e}.${m}`], `${e}.${m}`).toBe(pandas.counts[e][m]);
      }
      expect(etl.metrics?.['orders.revenue']).toBeCloseTo(pandas.counts.orders.revenue, 2);
      const { statementId } = await acts.startWarehouseStatements({ run: ref('load'), operation: 'load', etlRunId });
      expect((await until(() => acts.getStatementState({ run: ref('load'), statementId }))).state).toBe('SUCCEEDED');
    } finally {
      await acts.close();
    }
    const warehouse = config.warehousePath;
    const sales = `SELECT order_date::VARCHAR d, total_orders::BIGINT o, total_revenue::DECIMAL(18,2)::VARCHAR r, total_quantity::BIGINT q, unique_customers::BIGINT u, avg_order_value::DECIMAL(12,2)::VARCHAR a`;
    expect(await rowsOf(`${sales} FROM ${gold('agg_daily_sales')} ORDER BY 1`)).toEqual(
      await rowsOf(`${sales} FROM analytics.agg_daily_sales ORDER BY 1`, warehouse),
    );
    const facts = `SELECT order_id::BIGINT id, customer_id::BIGINT c, product_id::BIGINT p, order_date::VARCHAR d, order_amount::DECIMAL(10,2)::VARCHAR amt, quantity::INT q, delivery_date::VARCHAR dd`;
    const [pandasFacts, engineFacts] = [
      await rowsOf(`${facts} FROM ${gold('fact_orders')} ORDER BY 1`),
      await rowsOf(`${facts} FROM analytics.fact_orders ORDER BY 1`, warehouse),
    ];
    expect(pandasFacts.length).toBe(plan.days[0].orders);
    expect(pandasFacts).toEqual(engineFacts);
    const customers = `SELECT customer_id::BIGINT id, first_name f, last_name l, email e, join_date::VARCHAR j, city c, state s`;
    expect(await rowsOf(`${customers} FROM ${gold('dim_customers')} ORDER BY 1`)).toEqual(
      await rowsOf(`${customers} FROM analytics.dim_customers ORDER BY 1`, warehouse),
    );
    const rejects = `SELECT entity, source_file, row_number::BIGINT n, reason`;
    const rejectsFile = `'${path.join(dir, 'pandas', 'processed', 'rejects', 'rejects', `batch_date=${DATE}`, 'part-00000.parquet')}'`;
    expect(await rowsOf(`${rejects} FROM ${rejectsFile} ORDER BY ALL`)).toEqual(
      await rowsOf(`${rejects} FROM analytics.rejects ORDER BY ALL`, warehouse),
    );
  });
});
