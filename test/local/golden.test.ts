/**
 * The golden dataset end to end through the local activities: every warehouse table must equal the
 * hand-written expected CSV exactly (the same files the Glue job is checked against); the marts
 * must equal what an independent oracle (test/parity/support/marts-oracle.ts) computes from the
 * expected facts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DayResult, LocalTestBackend } from './support';
import { copyRaw, GOLDEN, GOLDEN_DATE, localConfig, open, runDay, tableCsv, tempDir } from './support';
import type { Fact, TextRow } from '../parity/support/marts-oracle';
import { customerAnalytics, productPerformance } from '../parity/support/marts-oracle';

const expected = (name: string) => fs.readFileSync(path.join(GOLDEN, 'expected', `${name}.csv`), 'utf8');
const header = (name: string) => expected(name).split('\n')[0].split(',');

describe('golden dataset', () => {
  let root: string;
  let a: LocalTestBackend;
  let day: DayResult;

  beforeAll(async () => {
    root = tempDir('golden');
    const config = localConfig(root);
    copyRaw(GOLDEN, config.lakeDir);
    a = open(config);
    day = await runDay(a, GOLDEN_DATE);
  });

  afterAll(async () => {
    await a?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it.each([
    ['dim_customers', 'customer_id'],
    ['dim_products', 'product_id'],
    ['fact_orders', 'order_id'],
    ['agg_daily_sales', 'order_date'],
  ])('analytics.%s equals its expected CSV (sorted by %s)', async (table, key) => {
    expect(await tableCsv(a, `analytics.${table}`, header(table), key)).toBe(expected(table));
  });

  describe('marts, as the oracle computes them from expected/fact_orders.csv', () => {
    const facts = () => parse(expected('fact_orders'), { columns: true }) as Fact[];
    const rows = async (from: string, columns: string[], orderBy: string): Promise<TextRow[]> =>
      (
        await a.engine.query(`SELECT ${columns.map((c) => `CAST(${c} AS VARCHAR) AS ${c}`).join(', ')} FROM ${from} ORDER BY ${orderBy}`)
      ).map((r) => Object.fromEntries(columns.map((c) => [c, String(r[c])])));

    it('analytics.product_performance: per product and order date', async () => {
      // The batch is alone on its dates, so the load took these rows from its gold marts.
      expect(day.load.metrics?.['marts.fromGold']).toBe(1);
      const want = productPerformance(facts());
      expect(want.length).toBeGreaterThan(3);
      expect(await rows('analytics.product_performance', Object.keys(want[0]), 'product_id, order_date')).toEqual(want);
    });

    it('gold/product_performance of the batch holds the same rows, dated with the batch', async () => {
      const want = productPerformance(facts()).map((r) => ({ ...r, batch_date: GOLDEN_DATE }));
      const gold = `read_parquet('${a.engine.lake.tableDir('gold', 'product_performance', GOLDEN_DATE)}/*.parquet')`;
      expect(await rows(gold, Object.keys(want[0]), 'product_id, order_date')).toEqual(want);
    });

    it('analytics.customer_analytics: RFM as of the batch date, orders after it left out', async () => {
      const want = customerAnalytics(facts(), GOLDEN_DATE);
      // orders 117 and 118 are dated 2025-10-28, after the batch: customers 9 and 10 have no earlier one
      expect(want.map((r) => r.customer_id)).toEqual(['1', '4', '5', '6', '7']);
      expect(new Set(want.map((r) => r.r_score)).size).toBeGreaterThan(1);
      expect(await rows('analytics.customer_analytics', Object.keys(want[0]), 'customer_id')).toEqual(want);
    });
  });

  it('analytics.rejects equals expected/rejects.csv', async () => {
    expect(await tableCsv(a, 'analytics.rejects', header('rejects'), 'entity, source_file, row_number')).toBe(expected('rejects'));
  });

  it('reports the expected metrics, and they balance', () => {
    const want = JSON.parse(fs.readFileSync(path.join(GOLDEN, 'expected', 'metrics.json'), 'utf8')) as Record<string, number>;
    const got = day.etl.metrics ?? {};
    for (const [k, v] of Object.entries(want)) expect(got[k], k).toBe(v);
    for (const e of ['customers', 'products', 'orders']) {
      expect(got[`${e}.read`], e).toBe(got[`${e}.loaded`] + got[`${e}.rejected`] + got[`${e}.duplicates`]);
    }
  });

  it('verify finds every loaded row and the revenue', () => {
    expect(day.verifyRows).toEqual([
      ['customers', 7, 0, null],
      ['products', 5, 0, null],
      ['orders', 8, 0, 195.61],
    ]);
  });

  it('records the catalog with lineage columns, extra columns and an ignored file', async () => {
    expect(day.crawl.metrics).toMatchObject({ 'customers.rows': 15, 'products.rows': 10, 'orders.rows': 26, 'products.files': 1 });
    const listing = await a.listRawPartition({
      run: { runDate: GOLDEN_DATE, workflowId: 'w', stage: 'awaitRawData', stageAttempt: 1 },
      entity: 'products',
    });
    expect(listing.objects.map((o) => o.key)).toEqual(['raw/products/2025-10-27/products.xlsx']);
    expect(listing.ignored).toEqual(['raw/products/2025-10-27/README.txt']);
    const catalog = await a.engine.query(`SELECT entity, columns, files, sources, row_count FROM bronze.catalog ORDER BY entity`);
    expect(catalog).toEqual([
      {
        entity: 'customers',
        columns: ['customer_id', 'first_name', 'last_name', 'email', 'join_date', 'city', 'state', 'loyalty_tier'],
        files: 2,
        sources: 2,
        row_count: 15,
      },
      {
        entity: 'orders',
        columns: ['order_id', 'customer_id', 'product_id', 'order_date', 'order_amount', 'quantity', 'delivery_date'],
        files: 2,
        sources: 2,
        row_count: 26,
      },
      { entity: 'products', columns: ['product_id', 'product_name', 'category', 'price', 'note'], files: 1, sources: 2, row_count: 10 },
    ]);
    const bronze = await a.engine.query(
      `SELECT source_file, source_row, customer_id, first_name, extra['loyalty_tier'] AS tier FROM bronze.customers WHERE source_row IN (2, 6) ORDER BY source_file, source_row`,
    );
    expect(bronze).toEqual([
      { source_file: 'customers_a.csv', source_row: 2, customer_id: '1', first_name: 'Ada', tier: 'gold' },
      { source_file: 'customers_a.csv', source_row: 6, customer_id: '5', first_name: '  Kate  ', tier: 'silver' },
      { source_file: 'customers_b.csv.gz', source_row: 2, customer_id: '4', first_name: 'New', tier: null },
    ]);
  });

  it("stores the quality report, the design's formulas over the expected verdicts, which fails this dirty batch", async () => {
    const rows = await a.engine.query(
      `SELECT entity, "check", value, threshold, passed FROM analytics.quality_reports WHERE run_date = DATE '${GOLDEN_DATE}' ORDER BY entity, "check"`,
    );
    const value = (entity: string, check: string) => rows.find((r) => r.entity === entity && r.check === check);
    expect(rows).toHaveLength(3 * 4 + 1);
    // The expected figures come from the hand-written expected rejects and metrics, not from the engine.
    const metrics = JSON.parse(fs.readFileSync(path.join(GOLDEN, 'expected', 'metrics.json'), 'utf8')) as Record<string, number>;
    const rejects = parse(expected('rejects'), { columns: true }) as { entity: string; reason: string }[];
    const count = (entity: string, reasons: string[]) => rejects.filter((r) => r.entity === entity && reasons.includes(r.reason)).length;
    const rowReasons = ['malformed_row', 'missing_key', 'bad_date', 'bad_number', 'out_of_range'];
    for (const entity of ['customers', 'products', 'orders']) {
      const n = metrics[`${entity}.read`] - metrics[`${entity}.duplicates`];
      const valid = n - count(entity, rowReasons);
      expect(value(entity, 'row_count')).toMatchObject({ value: n, threshold: 1, passed: true });
      expect(value(entity, 'validity')?.value).toBeCloseTo(valid / n, 12);
      expect(value(entity, 'key_uniqueness')?.value).toBeCloseTo(1 - count(entity, ['duplicate_key']) / valid, 12);
    }
    const ordersChecked = metrics['orders.read'] - metrics['orders.duplicates'] - count('orders', [...rowReasons, 'duplicate_key']);
    expect(value('orders', 'referential_consistency')).toMatchObject({ threshold: 0.99, passed: false });
    expect(value('orders', 'referential_consistency')?.value).toBeCloseTo(
      1 - count('orders', ['unknown_customer', 'unknown_product']) / ordersChecked,
      12,
    );
    expect(value('customers', 'completeness')).toMatchObject({ value: 11 / 13, passed: false }); // rows 8 and 9 lack fields
    expect(value('customers', 'validity')).toMatchObject({ passed: false });
    const page = await a.getQueryResults({
      run: { runDate: GOLDEN_DATE, workflowId: `daily-${GOLDEN_DATE}`, stage: 'validate', stageAttempt: 1 },
      queryId: day.queryId,
    });
    expect(page.columns.map((c) => c.name)).toEqual(['entity', 'check', 'value', 'threshold', 'passed']);
    expect(page.rows).toHaveLength(13);
    expect(page.rows[0]).toEqual(['customers', 'row_count', 13, 1, true]);
  });
});
