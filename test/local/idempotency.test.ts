/**
 * Reruns and ordering: D1, D2, D3, then D2 and D1 again must leave the warehouse as D1..D3 once left
 * it (timestamps aside); a later batch's correction survives a rerun of an earlier one; every batch
 * conserves its rows; aggregates follow an order that moves to another date.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTITIES } from '../../src/shared/contract';
import type { DayResult, LocalTestBackend } from './support';
import { localConfig, open, runDay, tableCsv, tempDir, warehouseState, writeRaw } from './support';

const D1 = '2025-10-01';
const D2 = '2025-10-02';
const D3 = '2025-10-03';

const CUSTOMERS = 'customer_id,first_name,last_name,email,join_date,city,state\n';
const PRODUCTS = 'product_id,product_name,category,price\n';
const ORDERS = 'order_id,customer_id,product_id,order_date,order_amount,quantity,delivery_date\n';

function writeDays(lake: string): void {
  writeRaw(
    lake,
    'customers',
    D1,
    'customers.csv',
    `${CUSTOMERS}1,Ann,A,ann@x.com,2025-01-01,Oslo,no\n2,Bob,B,bob@old.com,2025-01-02,Rome,it\n3,Cid,C,cid@x.com,2025-01-03,Lima,pe\n`,
  );
  writeRaw(lake, 'products', D1, 'products.csv', `${PRODUCTS}10,Pen,Office,1.50\n11,Ink,Office,4.00\n`);
  writeRaw(
    lake,
    'orders',
    D1,
    'orders.csv',
    `${ORDERS}1000,1,10,2025-10-01,10.00,1,\n1001,2,11,2025-10-01,20.00,2,\n1002,3,10,2025-09-30,5.00,1,\n1003,9,10,2025-10-01,1.00,1,\n1002,3,10,2025-09-30,5.00,1,\n`,
  );
  // D2 corrects customer 2 and product 11, moves order 1001 to another date and adds customer 4.
  writeRaw(
    lake,
    'customers',
    D2,
    'customers.csv',
    `${CUSTOMERS}2,Bob,B,bob@new.com,2025-01-02,Rome,it\n4,Dan,D,dan@x.com,2025-02-01,Kiev,ua\n`,
  );
  writeRaw(lake, 'products', D2, 'products.csv', `${PRODUCTS}11,Ink,Office,4.50\n`);
  writeRaw(
    lake,
    'orders',
    D2,
    'orders.csv',
    `${ORDERS}1001,2,11,2025-10-02,25.00,2,\n1004,4,10,2025-10-02,3.00,3,\n1005,5,10,2025-10-02,7.00,1,\n`,
  );
  // D3 brings customer 5 (too late for D2's order 1005) and corrects order 1000.
  writeRaw(lake, 'customers', D3, 'customers.csv', `${CUSTOMERS}5,Eve,E,eve@x.com,2025-03-01,Bern,ch\n`);
  writeRaw(lake, 'products', D3, 'products.csv', PRODUCTS);
  writeRaw(lake, 'orders', D3, 'orders.csv', `${ORDERS}1000,1,10,2025-10-01,12.00,1,\n1006,5,11,2025-10-03,9.00,1,\n`);
}

describe('reruns and batch order', () => {
  let root: string;
  let a: LocalTestBackend;
  const days: Record<string, DayResult[]> = {};
  let afterOnce: Record<string, string>;
  let afterReruns: Record<string, string>;

  const run = async (date: string, attempt: number) => {
    const day = await runDay(a, date, attempt, `daily-${date}-attempt-${attempt}`);
    (days[date] ??= []).push(day);
    return day;
  };

  beforeAll(async () => {
    root = tempDir('idempotency');
    const config = localConfig(root);
    writeDays(config.lakeDir);
    a = open(config);
    await run(D1, 1);
    await run(D2, 1);
    await run(D3, 1);
    afterOnce = await warehouseState(a);
    await run(D2, 2);
    await run(D1, 2);
    afterReruns = await warehouseState(a);
  });

  afterAll(async () => {
    await a?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('leaves every table as D1..D3 once left it', () => {
    expect(afterOnce.fact_orders.trim().split('\n')).toHaveLength(1 + 5);
    expect(afterOnce.rejects.trim().split('\n')).toHaveLength(1 + 2);
    for (const table of Object.keys(afterOnce)) expect(afterReruns[table], table).toBe(afterOnce[table]);
  });

  it('keeps later corrections after an earlier date is rerun', async () => {
    expect(await tableCsv(a, 'analytics.fact_orders', ['order_id', 'order_date', 'order_amount', 'batch_date'], 'order_id')).toBe(
      [
        'order_id,order_date,order_amount,batch_date',
        '1000,2025-10-01,12.00,2025-10-03',
        '1001,2025-10-02,25.00,2025-10-02',
        '1002,2025-09-30,5.00,2025-10-01',
        '1004,2025-10-02,3.00,2025-10-02',
        '1006,2025-10-03,9.00,2025-10-03',
        '',
      ].join('\n'),
    );
    expect(await tableCsv(a, 'analytics.dim_customers', ['customer_id', 'email', 'batch_date'], 'customer_id')).toContain(
      '2,bob@new.com,2025-10-02',
    );
    expect(await tableCsv(a, 'analytics.dim_products', ['product_id', 'price', 'batch_date'], 'product_id')).toContain(
      '11,4.50,2025-10-02',
    );
  });

  it('recomputes the totals of a date an order moved away from', async () => {
    // D1 was alone on its dates (marts from its gold); D2 shares 2025-10-01 with D1 (marts grouped from the facts).
    expect(days[D1].map((d) => d.load.metrics?.['marts.fromGold'])).toEqual([1, 0]);
    expect(days[D2][0].load.metrics?.['marts.fromGold']).toBe(0);
    expect(
      await tableCsv(
        a,
        'analytics.agg_daily_sales',
        ['order_date', 'total_orders', 'total_revenue', 'total_quantity', 'unique_customers', 'avg_order_value'],
        'order_date',
      ),
    ).toBe(
      [
        'order_date,total_orders,total_revenue,total_quantity,unique_customers,avg_order_value',
        '2025-09-30,1,5.00,1,1,5.00',
        '2025-10-01,1,12.00,1,1,12.00',
        '2025-10-02,2,28.00,5,2,14.00',
        '2025-10-03,1,9.00,1,1,9.00',
        '',
      ].join('\n'),
    );
  });

  it('judges references against earlier batches only, so a rerun rejects the same rows', async () => {
    const rejects = await tableCsv(
      a,
      'analytics.rejects',
      ['batch_date', 'entity', 'row_number', 'reason'],
      'batch_date, entity, row_number',
    );
    expect(rejects).toBe(
      ['batch_date,entity,row_number,reason', '2025-10-01,orders,5,unknown_customer', '2025-10-02,orders,4,unknown_customer', ''].join(
        '\n',
      ),
    );
  });

  it('conserves rows in every batch and entity, on every run', () => {
    for (const [date, runs] of Object.entries(days)) {
      for (const day of runs) {
        const m = day.etl.metrics ?? {};
        for (const e of ENTITIES) {
          expect(m[`${e}.read`], `${date} ${e}`).toBe(m[`${e}.loaded`] + m[`${e}.rejected`] + m[`${e}.duplicates`]);
        }
      }
    }
    expect(days[D1][0].etl.metrics).toMatchObject({ 'orders.read': 5, 'orders.loaded': 3, 'orders.rejected': 1, 'orders.duplicates': 1 });
  });

  it('verifies a rerun old batch by counting what later batches replaced', () => {
    const [first, rerun] = days[D1];
    expect(first.verifyRows).toEqual([
      ['customers', 3, 0, null],
      ['products', 2, 0, null],
      ['orders', 3, 0, 35],
    ]);
    expect(rerun.verifyRows).toEqual([
      ['customers', 2, 1, null],
      ['products', 1, 1, null],
      ['orders', 1, 2, 5],
    ]);
  });

  it('writes one audit row per batch', async () => {
    const audit = await a.engine.query(
      'SELECT batch_date::VARCHAR AS d, orders_read, orders_loaded FROM analytics.load_audit ORDER BY batch_date',
    );
    expect(audit).toEqual([
      { d: D1, orders_read: 5, orders_loaded: 3 },
      { d: D2, orders_read: 3, orders_loaded: 2 },
      { d: D3, orders_read: 2, orders_loaded: 2 },
    ]);
  });
});
