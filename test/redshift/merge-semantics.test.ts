/**
 * The warehouse SQL of the AWS backend (sql/redshift/*.sql), run on a real PostgreSQL: the same files,
 * with Redshift table attributes stripped, GETDATE() defined, and each COPY from S3 replaced by inserting
 * the rows that Parquet folder would hold. Statements run as one transaction, as BatchExecuteStatement
 * runs them. The last suite runs one sequence of batches (reruns that drop and move rows included)
 * through the local backend's DuckDB warehouse and through load.sql, and compares the two row for row.
 */
import fs from 'node:fs';
import { Client, types } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres } from './support/postgres';
import type { TestPostgres } from './support/postgres';
import { loadStatements, martsBlockOf, redshiftMartsSql, withMartsBlock } from '../../src/activities/aws/sql-templates';
import { parseCopy, readSql } from './support/sql';
import { COPY_ROLE, PROCESSED, SCHEMA, createWarehouse, runLoad, runVerify } from './support/warehouse';
import { bothWarehouses, loadFromLocalLake } from './support/local';
import type { LocalTestBackend } from '../local/support';
import { localConfig, open, runDay, tempDir, writeRaw } from '../local/support';

// Dates, numerics and bigints as the text PostgreSQL sends, so comparisons need no time zone or float.
types.setTypeParser(types.builtins.DATE, (v) => v);

type Row = Record<string, string | number | null>;

interface Batch {
  date: string;
  customers: Row[];
  products: Row[];
  orders: Row[];
  rejects: Row[];
  metrics: Row;
}

const STAGING_SOURCES: Record<string, (b: Batch) => Row[]> = {
  'gold/dim_customers': (b) => b.customers,
  'gold/dim_products': (b) => b.products,
  'gold/fact_orders': (b) => b.orders,
  'rejects/customers': (b) => b.rejects.filter((r) => r.entity === 'customers'),
  'rejects/products': (b) => b.rejects.filter((r) => r.entity === 'products'),
  'rejects/orders': (b) => b.rejects.filter((r) => r.entity === 'orders'),
  'gold/load_metrics': (b) => [b.metrics],
};

function customer(id: number, first: string, city: string, state: string): Row {
  return {
    customer_id: id,
    first_name: first,
    last_name: 'Test',
    email: `${first.toLowerCase()}@example.com`,
    join_date: '2025-01-01',
    city,
    state,
  };
}

function product(id: number, name: string, price: string): Row {
  return { product_id: id, product_name: name, category: 'Tools', price };
}

function order(id: number, customerId: number, productId: number, date: string, amount: string | null, quantity: number): Row {
  return {
    order_id: id,
    customer_id: customerId,
    product_id: productId,
    order_date: date,
    order_amount: amount,
    quantity,
    delivery_date: null,
  };
}

function metrics(date: string, loaded: [number, number, number], revenue: string): Row {
  const [c, p, o] = loaded;
  return {
    etl_run_id: `jr_${date}`,
    customers_read: c + 1,
    customers_loaded: c,
    customers_rejected: 1,
    customers_duplicates: 0,
    products_read: p,
    products_loaded: p,
    products_rejected: 0,
    products_duplicates: 0,
    orders_read: o + 2,
    orders_loaded: o,
    orders_rejected: 1,
    orders_duplicates: 1,
    orders_revenue: revenue,
    transform_started_ms: Date.parse(`${date}T08:00:00Z`),
    transform_finished_ms: Date.parse(`${date}T08:00:01.500Z`),
  };
}

const D1: Batch = {
  date: '2025-10-27',
  customers: [customer(1, 'Ada', 'London', 'CA'), customer(2, 'Alan', 'Manchester', 'NY')],
  products: [product(10, 'Widget', '20.00'), product(11, 'Gadget', '5.00')],
  orders: [
    order(100, 1, 10, '2025-10-26', '40.00', 2),
    order(101, 2, 11, '2025-10-27', '5.00', 1),
    order(102, 1, 11, '2025-10-27', '10.01', 3),
  ],
  rejects: [
    {
      entity: 'customers',
      source_file: 'customers.csv',
      row_number: 3,
      reason: 'bad_date',
      raw_record: '{"customer_id":"9","join_date":"2025-02-30"}',
    },
    {
      entity: 'orders',
      source_file: 'orders.csv',
      row_number: 5,
      reason: 'unknown_customer',
      raw_record: '{"order_id":"104","customer_id":"99"}',
    },
  ],
  metrics: metrics('2025-10-27', [2, 2, 3], '55.01'),
};

// The next day: customer 1 moves, product 10 costs more, order 100 is corrected to another day.
const D2: Batch = {
  date: '2025-10-28',
  customers: [customer(1, 'Ada', 'Paris', 'FR'), customer(3, 'Kate', 'Boston', 'MA')],
  products: [product(10, 'Widget', '22.50')],
  orders: [order(100, 1, 10, '2025-10-28', '45.00', 2), order(103, 3, 10, '2025-10-28', '7.50', 1)],
  rejects: [{ entity: 'products', source_file: 'products.xlsx[More]', row_number: 2, reason: 'bad_number', raw_record: '{"price":"abc"}' }],
  metrics: metrics('2025-10-28', [2, 1, 2], '52.50'),
};

const TABLES = [
  'dim_customers',
  'dim_products',
  'fact_orders',
  'agg_daily_sales',
  'product_performance',
  'customer_analytics',
  'rejects',
  'load_audit',
];
const STAGING = ['stg_customers', 'stg_products', 'stg_orders', 'stg_rejects', 'stg_load_metrics', 'stg_affected_dates'];
const WALL_CLOCK = ['last_updated', 'loaded_at'];

let pg: TestPostgres;
let db: Client;

async function insertRows(table: string, rows: Row[], batchDate: string): Promise<void> {
  for (const row of rows) {
    const full: Row = { batch_date: batchDate, ...row };
    const cols = Object.keys(full);
    const params = cols.map((_, i) => `$${i + 1}`).join(', ');
    await db.query(`INSERT INTO ${SCHEMA}.${table} (${cols.join(', ')}) VALUES (${params})`, Object.values(full));
  }
}

/** load.sql for one batch; each COPY becomes inserts of the rows that folder would hold. */
async function load(batch: Batch): Promise<void> {
  await runLoad(db, batch.date, async (copy) => {
    const rows = STAGING_SOURCES[copy.source];
    if (!rows) throw new Error(`load.sql copies from an unexpected folder: ${copy.source}`);
    await insertRows(copy.table, rows(batch), batch.date);
  });
}

async function verify(date: string): Promise<Row[]> {
  return (await runVerify(db, date)) as Row[];
}

async function table(name: string): Promise<Row[]> {
  const { rows } = await db.query(`SELECT * FROM ${SCHEMA}.${name}`);
  return (rows as Row[])
    .map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !WALL_CLOCK.includes(k))))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

async function snapshot(names = TABLES): Promise<Record<string, Row[]>> {
  const out: Record<string, Row[]> = {};
  for (const name of names) out[name] = await table(name);
  return out;
}

async function resetWarehouse(): Promise<void> {
  await db.query(`TRUNCATE ${[...TABLES, ...STAGING].map((t) => `${SCHEMA}.${t}`).join(', ')}`);
}

beforeAll(async () => {
  pg = await startPostgres();
  db = new Client({ host: pg.host, port: pg.port, user: pg.user, database: pg.database });
  await db.connect();
  // twice: the DDL must be safe to run on a warehouse that already has the tables
  await createWarehouse(db);
  await createWarehouse(db);
});

afterAll(async () => {
  await db?.end();
  await pg?.stop();
});

describe('load.sql on PostgreSQL', () => {
  it('loads a first batch into dims, facts, daily aggregates, rejects and the audit row', async () => {
    await resetWarehouse();
    await load(D1);
    const s = await snapshot();
    expect(s.dim_customers.map((r) => [r.customer_id, r.city, r.batch_date])).toEqual([
      ['1', 'London', '2025-10-27'],
      ['2', 'Manchester', '2025-10-27'],
    ]);
    expect(s.fact_orders.map((r) => [r.order_id, r.order_date, r.order_amount])).toEqual([
      ['100', '2025-10-26', '40.00'],
      ['101', '2025-10-27', '5.00'],
      ['102', '2025-10-27', '10.01'],
    ]);
    expect(s.agg_daily_sales).toEqual([
      {
        order_date: '2025-10-26',
        total_orders: '1',
        total_revenue: '40.00',
        total_quantity: '2',
        unique_customers: '1',
        avg_order_value: '40.00',
      },
      // 15.01 / 2 = 7.505 rounds half-up
      {
        order_date: '2025-10-27',
        total_orders: '2',
        total_revenue: '15.01',
        total_quantity: '4',
        unique_customers: '2',
        avg_order_value: '7.51',
      },
    ]);
    expect(s.rejects.map((r) => [r.entity, r.row_number, r.reason])).toEqual([
      ['customers', 3, 'bad_date'],
      ['orders', 5, 'unknown_customer'],
    ]);
    expect(s.load_audit).toHaveLength(1);
    const audit = (
      await db.query(
        `SELECT etl_run_id, orders_loaded, orders_revenue, transform_started_at::text AS started, transform_finished_at::text AS finished, loaded_at FROM ${SCHEMA}.load_audit`,
      )
    ).rows[0];
    expect(audit).toMatchObject({
      etl_run_id: 'jr_2025-10-27',
      orders_loaded: '3',
      orders_revenue: '55.01',
      started: '2025-10-27 08:00:00',
      finished: '2025-10-27 08:00:01.5',
    });
    expect(audit.loaded_at).toBeInstanceOf(Date);
  });

  it('leaves every table as it was when the same batch is loaded again', async () => {
    await resetWarehouse();
    await load(D1);
    const first = await snapshot([...TABLES, ...STAGING]);
    await load(D1);
    expect(await snapshot([...TABLES, ...STAGING])).toEqual(first);
  });

  it('lets a later batch replace rows and recomputes the days its rows left and joined', async () => {
    await resetWarehouse();
    await load(D1);
    await load(D2);
    const s = await snapshot();
    expect(s.dim_customers.map((r) => [r.customer_id, r.city, r.state, r.batch_date])).toEqual([
      ['1', 'Paris', 'FR', '2025-10-28'],
      ['2', 'Manchester', 'NY', '2025-10-27'],
      ['3', 'Boston', 'MA', '2025-10-28'],
    ]);
    expect(s.dim_products.map((r) => [r.product_id, r.price, r.batch_date])).toEqual([
      ['10', '22.50', '2025-10-28'],
      ['11', '5.00', '2025-10-27'],
    ]);
    expect(s.fact_orders.map((r) => [r.order_id, r.order_date, r.order_amount, r.batch_date])).toEqual([
      ['100', '2025-10-28', '45.00', '2025-10-28'],
      ['101', '2025-10-27', '5.00', '2025-10-27'],
      ['102', '2025-10-27', '10.01', '2025-10-27'],
      ['103', '2025-10-28', '7.50', '2025-10-28'],
    ]);
    // order 100 left 2025-10-26, its only order: the day's aggregate goes rather than staying stale
    expect(
      s.agg_daily_sales.map((r) => [
        r.order_date,
        r.total_orders,
        r.total_revenue,
        r.total_quantity,
        r.unique_customers,
        r.avg_order_value,
      ]),
    ).toEqual([
      ['2025-10-27', '2', '15.01', '4', '2', '7.51'],
      ['2025-10-28', '2', '52.50', '3', '2', '26.25'],
    ]);
    expect(s.load_audit.map((r) => r.batch_date)).toEqual(['2025-10-27', '2025-10-28']);
  });

  it('never lets an earlier batch, loaded again after a later one, overwrite the later rows', async () => {
    await resetWarehouse();
    await load(D1);
    await load(D2);
    const afterLater = await snapshot();
    await load(D1);
    expect(await snapshot()).toEqual(afterLater);
  });

  it('reports per entity the batch rows in the warehouse, those a later batch superseded, and revenue', async () => {
    await resetWarehouse();
    await load(D1);
    await load(D2);
    await load(D1);
    expect(await verify(D1.date)).toEqual([
      { entity: 'customers', warehouse_rows: '1', superseded_rows: '1', revenue: null },
      { entity: 'products', warehouse_rows: '1', superseded_rows: '1', revenue: null },
      { entity: 'orders', warehouse_rows: '2', superseded_rows: '1', revenue: '15.01' },
    ]);
    expect(await verify(D2.date)).toEqual([
      { entity: 'customers', warehouse_rows: '2', superseded_rows: '0', revenue: null },
      { entity: 'products', warehouse_rows: '1', superseded_rows: '0', revenue: null },
      { entity: 'orders', warehouse_rows: '2', superseded_rows: '0', revenue: '52.50' },
    ]);
  });

  it('leaves the warehouse and staging untouched when a statement of the load fails', async () => {
    await resetWarehouse();
    await load(D1);
    const before = await snapshot([...TABLES, ...STAGING]);
    // dims merge first; the fact insert then hits NOT NULL (enforced by Redshift too)
    const broken: Batch = {
      ...D2,
      date: '2025-10-29',
      customers: [customer(2, 'Alan', 'Leeds', 'WY')],
      orders: [order(105, 2, 10, '2025-10-29', null, 1)],
    };
    await expect(load(broken)).rejects.toThrow(/order_amount/);
    expect(await snapshot([...TABLES, ...STAGING])).toEqual(before);
  });
});

describe('the SQL files as BatchExecuteStatement receives them', () => {
  const load = loadStatements('load.sql', { schema: SCHEMA, run_date: D1.date, processed_uri: PROCESSED, copy_role_arn: COPY_ROLE });

  it('holds no statement that commits on its own in Redshift', () => {
    const selfCommitting = load.filter((s) => /^\s*(TRUNCATE|COMMIT|BEGIN|END|ROLLBACK|VACUUM|ANALYZE|CREATE|DROP|ALTER)\b/i.test(s));
    expect(selfCommitting).toEqual([]);
  });

  it('fits in one BatchExecuteStatement call (at most 40 statements)', () => {
    expect(load.length).toBeGreaterThan(10);
    expect(load.length).toBeLessThanOrEqual(40);
  });

  it('copies each folder of the batch from the processed location with the copy role', () => {
    const copies = load.filter((s) => /^COPY\b/i.test(s));
    expect(copies.map((s) => parseCopy(s, PROCESSED)?.source).sort()).toEqual(Object.keys(STAGING_SOURCES).sort());
    for (const copy of copies) {
      expect(copy).toContain(`/batch_date=${D1.date}/'`);
      expect(copy).toContain(`IAM_ROLE '${COPY_ROLE}'`);
      expect(copy).toMatch(/FORMAT AS PARQUET$/);
    }
  });

  it('holds the marts block as src/rules/marts.ts renders it for Redshift (npx tsx scripts/render-rules.ts --load-sql)', () => {
    const block = martsBlockOf(readSql('load'));
    expect(block, 'load.sql has no marts block').toBeDefined();
    expect(block).toBe(redshiftMartsSql());
    expect(withMartsBlock(readSql('load'))).toBe(readSql('load'));
    for (const table of ['agg_daily_sales', 'product_performance', 'customer_analytics'])
      expect(load.some((s) => s.startsWith(`INSERT INTO ${SCHEMA}.${table} `))).toBe(true);
  });

  it('uses only the placeholders the AWS backend renders', () => {
    for (const name of ['ddl', 'load', 'verify'] as const) {
      const used = new Set([...readSql(name).matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]));
      expect([...used].filter((p) => !['schema', 'run_date', 'processed_uri', 'copy_role_arn'].includes(p))).toEqual([]);
    }
    expect(() => loadStatements('load.sql', { schema: SCHEMA, run_date: D1.date })).toThrow(/\{\{processed_uri\}\}/);
  });
});

// A richer pair of days for reruns: E2 overwrites customer 2, product 11 and order 201 (moved from
// 11-01 to 11-02) and brings rows of its own.
const E1: Batch = {
  date: '2025-11-01',
  customers: [customer(1, 'Ada', 'London', 'CA'), customer(2, 'Alan', 'Manchester', 'NY'), customer(3, 'Grace', 'York', 'NY')],
  products: [product(10, 'Widget', '20.00'), product(11, 'Gadget', '5.00'), product(12, 'Doohickey', '3.00')],
  orders: [
    order(200, 1, 10, '2025-11-01', '10.00', 1),
    order(201, 2, 11, '2025-11-01', '20.00', 2),
    order(202, 3, 12, '2025-10-31', '30.00', 3),
    order(203, 1, 11, '2025-11-01', '5.00', 1),
  ],
  rejects: [
    {
      entity: 'orders',
      source_file: 'orders.csv',
      row_number: 6,
      reason: 'unknown_customer',
      raw_record: '{"order_id":"299","customer_id":"99"}',
    },
  ],
  metrics: metrics('2025-11-01', [3, 3, 4], '65.00'),
};

const E2: Batch = {
  date: '2025-11-02',
  customers: [customer(2, 'Alan', 'Leeds', 'WY'), customer(4, 'Kate', 'Boston', 'MA'), customer(5, 'Lin', 'Austin', 'TX')],
  products: [product(11, 'Gadget', '6.00'), product(13, 'Gizmo', '8.00')],
  orders: [
    order(201, 2, 11, '2025-11-02', '25.00', 2),
    order(204, 4, 10, '2025-11-02', '7.00', 1),
    order(205, 5, 13, '2025-11-02', '8.00', 2),
    order(206, 4, 11, '2025-11-03', '9.00', 1),
  ],
  rejects: [{ entity: 'customers', source_file: 'customers.csv', row_number: 4, reason: 'bad_date', raw_record: '{"customer_id":"8"}' }],
  metrics: metrics('2025-11-02', [3, 2, 4], '49.00'),
};

// E2 again, its files corrected: customer 5, product 13 and order 205 gone, order 206 moved to 11-04.
const E2_RERUN: Batch = {
  ...E2,
  customers: E2.customers.filter((c) => c.customer_id !== 5),
  products: E2.products.filter((p) => p.product_id !== 13),
  orders: E2.orders.filter((o) => o.order_id !== 205).map((o) => (o.order_id === 206 ? { ...o, order_date: '2025-11-04' } : o)),
  rejects: [{ entity: 'products', source_file: 'products.csv', row_number: 3, reason: 'bad_number', raw_record: '{"price":"x"}' }],
  metrics: metrics('2025-11-02', [2, 1, 3], '41.00'),
};

// A later day that overwrites customer 1, product 10 and order 200 (moved to 11-05).
const E3: Batch = {
  date: '2025-11-03',
  customers: [customer(1, 'Ada', 'Paris', 'FR')],
  products: [product(10, 'Widget', '21.00')],
  orders: [order(200, 1, 10, '2025-11-05', '11.00', 1)],
  rejects: [],
  metrics: metrics('2025-11-03', [1, 1, 1], '11.00'),
};

const AGG = (rows: Row[]) =>
  rows.map((r) => [r.order_date, r.total_orders, r.total_revenue, r.total_quantity, r.unique_customers, r.avg_order_value]);

/** A table's rows with their wall-clock column as text, for "not even rewritten" checks. */
async function stamped(name: string, where: string): Promise<Row[]> {
  const { rows } = await db.query(`SELECT *, last_updated::text AS stamp FROM ${SCHEMA}.${name} WHERE ${where} ORDER BY 1`);
  return rows as Row[];
}

describe('load.sql: a rerun replaces its batch', () => {
  it('removes the rows the rerun no longer holds, recomputes the old and new dates, leaves other batches as they were', async () => {
    await resetWarehouse();
    await load(E1);
    await load(E2);
    const e1Rows = {
      c: await stamped('dim_customers', "batch_date = '2025-11-01'"),
      p: await stamped('dim_products', "batch_date = '2025-11-01'"),
      f: await stamped('fact_orders', "batch_date = '2025-11-01'"),
    };
    const untouchedDays = await stamped('agg_daily_sales', "order_date IN ('2025-10-31', '2025-11-01')");
    await load(E2_RERUN);
    const s = await snapshot();
    expect(s.dim_customers.map((r) => [r.customer_id, r.city, r.batch_date])).toEqual([
      ['1', 'London', '2025-11-01'],
      ['2', 'Leeds', '2025-11-02'],
      ['3', 'York', '2025-11-01'],
      ['4', 'Boston', '2025-11-02'],
    ]);
    expect(s.dim_products.map((r) => [r.product_id, r.price, r.batch_date])).toEqual([
      ['10', '20.00', '2025-11-01'],
      ['11', '6.00', '2025-11-02'],
      ['12', '3.00', '2025-11-01'],
    ]);
    expect(s.fact_orders.map((r) => [r.order_id, r.order_date, r.order_amount, r.batch_date])).toEqual([
      ['200', '2025-11-01', '10.00', '2025-11-01'],
      ['201', '2025-11-02', '25.00', '2025-11-02'],
      ['202', '2025-10-31', '30.00', '2025-11-01'],
      ['203', '2025-11-01', '5.00', '2025-11-01'],
      ['204', '2025-11-02', '7.00', '2025-11-02'],
      ['206', '2025-11-04', '9.00', '2025-11-02'],
    ]);
    // 11-02 lost order 205; 11-03 lost its only order (206) and goes; 11-04 gained it
    expect(AGG(s.agg_daily_sales)).toEqual([
      ['2025-10-31', '1', '30.00', '3', '1', '30.00'],
      ['2025-11-01', '2', '15.00', '2', '1', '7.50'],
      ['2025-11-02', '2', '32.00', '3', '2', '16.00'],
      ['2025-11-04', '1', '9.00', '1', '1', '9.00'],
    ]);
    expect(s.rejects.map((r) => [r.batch_date, r.entity, r.reason])).toEqual([
      ['2025-11-01', 'orders', 'unknown_customer'],
      ['2025-11-02', 'products', 'bad_number'],
    ]);
    expect(s.load_audit.map((r) => [r.batch_date, r.orders_loaded])).toEqual([
      ['2025-11-01', '4'],
      ['2025-11-02', '3'],
    ]);
    // the earlier batch's rows and the days it alone holds are not even rewritten
    expect(await stamped('dim_customers', "batch_date = '2025-11-01'")).toEqual(e1Rows.c);
    expect(await stamped('dim_products', "batch_date = '2025-11-01'")).toEqual(e1Rows.p);
    expect(await stamped('fact_orders', "batch_date = '2025-11-01'")).toEqual(e1Rows.f);
    expect(await stamped('agg_daily_sales', "order_date IN ('2025-10-31', '2025-11-01')")).toEqual(untouchedDays);
    // the same warehouse as if the rerun's files had been there the first time
    await resetWarehouse();
    await load(E1);
    await load(E2_RERUN);
    expect(await snapshot()).toEqual(s);
  });

  it("keeps a later batch's rows when an earlier batch is rerun without them", async () => {
    await resetWarehouse();
    await load(E1);
    await load(E2);
    await load(E3);
    const later = {
      e2: await stamped('fact_orders', "batch_date = '2025-11-02'"),
      e3: await stamped('fact_orders', "batch_date = '2025-11-03'"),
      c3: await stamped('dim_customers', "batch_date = '2025-11-03'"),
      p3: await stamped('dim_products', "batch_date = '2025-11-03'"),
    };
    // E1 again without customer 1, product 10 and orders 200 (all now E3's) and 203 (its own)
    await load({
      ...E1,
      customers: E1.customers.filter((c) => c.customer_id !== 1),
      products: E1.products.filter((p) => p.product_id !== 10),
      orders: E1.orders.filter((o) => o.order_id !== 200 && o.order_id !== 203),
    });
    const s = await snapshot();
    expect(s.dim_customers.map((r) => [r.customer_id, r.city, r.batch_date])).toEqual([
      ['1', 'Paris', '2025-11-03'],
      ['2', 'Leeds', '2025-11-02'],
      ['3', 'York', '2025-11-01'],
      ['4', 'Boston', '2025-11-02'],
      ['5', 'Austin', '2025-11-02'],
    ]);
    expect(s.dim_products.map((r) => [r.product_id, r.price, r.batch_date])).toEqual([
      ['10', '21.00', '2025-11-03'],
      ['11', '6.00', '2025-11-02'],
      ['12', '3.00', '2025-11-01'],
      ['13', '8.00', '2025-11-02'],
    ]);
    expect(s.fact_orders.map((r) => [r.order_id, r.order_date, r.batch_date])).toEqual([
      ['200', '2025-11-05', '2025-11-03'],
      ['201', '2025-11-02', '2025-11-02'],
      ['202', '2025-10-31', '2025-11-01'],
      ['204', '2025-11-02', '2025-11-02'],
      ['205', '2025-11-02', '2025-11-02'],
      ['206', '2025-11-03', '2025-11-02'],
    ]);
    // 11-01 lost 203, its last order (200 left for 11-05 with E3, 201 for 11-02 with E2)
    expect(AGG(s.agg_daily_sales)).toEqual([
      ['2025-10-31', '1', '30.00', '3', '1', '30.00'],
      ['2025-11-02', '3', '40.00', '5', '3', '13.33'],
      ['2025-11-03', '1', '9.00', '1', '1', '9.00'],
      ['2025-11-05', '1', '11.00', '1', '1', '11.00'],
    ]);
    expect(await stamped('fact_orders', "batch_date = '2025-11-02'")).toEqual(later.e2);
    expect(await stamped('fact_orders', "batch_date = '2025-11-03'")).toEqual(later.e3);
    expect(await stamped('dim_customers', "batch_date = '2025-11-03'")).toEqual(later.c3);
    expect(await stamped('dim_products', "batch_date = '2025-11-03'")).toEqual(later.p3);
  });

  it('drops a row the batch overwrote and its rerun no longer holds, as the local load does; the earlier date brings it back', async () => {
    await resetWarehouse();
    await load(E1);
    await load(E2);
    await load({
      ...E2,
      customers: E2.customers.filter((c) => c.customer_id !== 2),
      products: E2.products.filter((p) => p.product_id !== 11),
      orders: E2.orders.filter((o) => o.order_id !== 201),
    });
    let s = await snapshot();
    // E1's customer 2, product 11 and order 201 were replaced by E2's, which are gone now: nothing is left
    expect(s.dim_customers.map((r) => r.customer_id)).toEqual(['1', '3', '4', '5']);
    expect(s.dim_products.map((r) => r.product_id)).toEqual(['10', '12', '13']);
    expect(s.fact_orders.map((r) => r.order_id)).toEqual(['200', '202', '203', '204', '205', '206']);
    expect(AGG(s.agg_daily_sales)).toEqual([
      ['2025-10-31', '1', '30.00', '3', '1', '30.00'],
      ['2025-11-01', '2', '15.00', '2', '1', '7.50'],
      ['2025-11-02', '2', '15.00', '3', '2', '7.50'],
      ['2025-11-03', '1', '9.00', '1', '1', '9.00'],
    ]);
    await load(E1);
    s = await snapshot();
    expect(s.dim_customers.filter((r) => r.customer_id === '2').map((r) => [r.city, r.batch_date])).toEqual([['Manchester', '2025-11-01']]);
    expect(s.dim_products.filter((r) => r.product_id === '11').map((r) => [r.price, r.batch_date])).toEqual([['5.00', '2025-11-01']]);
    expect(s.fact_orders.filter((r) => r.order_id === '201').map((r) => [r.order_date, r.batch_date])).toEqual([
      ['2025-11-01', '2025-11-01'],
    ]);
    expect(AGG(s.agg_daily_sales).find((r) => r[0] === '2025-11-01')).toEqual(['2025-11-01', '3', '35.00', '4', '2', '11.67']);
  });
});

// The same days as raw files for the local backend: its transform writes the Parquet each load reads.
const F1 = '2025-10-01';
const F2 = '2025-10-02';
const F3 = '2025-10-03';
const CUSTOMERS = 'customer_id,first_name,last_name,email,join_date,city,state\n';
const PRODUCTS = 'product_id,product_name,category,price\n';
const ORDERS = 'order_id,customer_id,product_id,order_date,order_amount,quantity,delivery_date\n';

interface RawDay {
  date: string;
  customers: string;
  products: string;
  orders: string;
}

const F1_FILES: RawDay = {
  date: F1,
  customers: `${CUSTOMERS}1,Ann,A,ann@x.com,2025-01-01,Oslo,no\n2,Bob,B,bob@old.com,2025-01-02,Rome,it\n3,Cid,C,cid@x.com,2025-01-03,Lima,pe\n7,Gus,G,gus@x.com,2025-13-01,Nice,fr\n`,
  products: `${PRODUCTS}10,Pen,Office,1.50\n11,Ink,Office,4.00\n`,
  orders: `${ORDERS}1000,1,10,2025-10-01,10.00,1,\n1001,2,11,2025-10-01,20.00,2,\n1002,3,10,2025-09-30,5.00,1,\n1003,9,10,2025-10-01,1.00,1,\n1009,1,11,2025-10-01,3.33,3,\n1002,3,10,2025-09-30,5.00,1,\n`,
};
// F2 overwrites customer 2, product 11 and order 1001 (moved to 10-02); 1005's customer arrives only in F3.
const F2_FILES: RawDay = {
  date: F2,
  customers: `${CUSTOMERS}2,Bob,B,bob@new.com,2025-01-02,Rome,it\n4,Dan,D,dan@x.com,2025-02-01,Kiev,ua\n6,Fay,F,fay@x.com,2025-02-02,Graz,at\n`,
  products: `${PRODUCTS}11,Ink,Office,4.50\n12,Cap,Office,2.25\n`,
  orders: `${ORDERS}1001,2,11,2025-10-02,25.00,2,\n1004,4,10,2025-10-02,3.00,3,\n1005,5,10,2025-10-02,7.00,1,\n1007,6,12,2025-10-02,11.00,1,\n1008,4,12,2025-10-03,2.00,2,\n`,
};
const F3_FILES: RawDay = {
  date: F3,
  customers: `${CUSTOMERS}5,Eve,E,eve@x.com,2025-03-01,Bern,ch\n`,
  products: PRODUCTS,
  orders: `${ORDERS}1000,1,10,2025-10-01,12.00,1,\n1006,5,11,2025-10-03,9.00,1,\n`,
};
// F2 corrected: customer 2 (which it had overwritten) and 6, product 12 and order 1007 gone, order
// 1008 moved to 10-04, a new bad row.
const F2_RERUN: RawDay = {
  date: F2,
  customers: `${CUSTOMERS}4,Dan,D,dan@x.com,2025-02-01,Kiev,ua\n`,
  products: `${PRODUCTS}11,Ink,Office,4.50\n`,
  orders: `${ORDERS}1001,2,11,2025-10-02,25.00,2,\n1004,4,10,2025-10-02,3.00,3,\n1005,5,10,2025-10-02,7.00,1,\n1008,4,10,2025-10-04,2.00,2,\n1010,4,10,2025-10-02,abc,1,\n`,
};
// F1 corrected: without its bad customer row, order 1000 (F3's now) and order 1002 (its own).
const F1_RERUN: RawDay = {
  date: F1,
  customers: `${CUSTOMERS}1,Ann,A,ann@x.com,2025-01-01,Oslo,no\n2,Bob,B,bob@old.com,2025-01-02,Rome,it\n3,Cid,C,cid@x.com,2025-01-03,Lima,pe\n`,
  products: F1_FILES.products,
  orders: `${ORDERS}1001,2,11,2025-10-01,20.00,2,\n1003,9,10,2025-10-01,1.00,1,\n1009,1,11,2025-10-01,3.33,3,\n`,
};

const SEQUENCE: [string, RawDay][] = [
  ['F1', F1_FILES],
  ['F2', F2_FILES],
  ['F3', F3_FILES],
  ['F2 rerun, rows dropped and moved', F2_RERUN],
  ['F2 rerun, same files', F2_RERUN],
  ['F1 rerun, rows dropped', F1_RERUN],
  ['F3 rerun, same files', F3_FILES],
];

describe('the local warehouse and load.sql, given the same sequence of batches', () => {
  let root: string;
  let a: LocalTestBackend;
  const attempts: Record<string, number> = {};
  const steps: { name: string; local: Record<string, Row[]>; redshift: Record<string, Row[]> }[] = [];

  beforeAll(async () => {
    root = tempDir('local-vs-redshift');
    const config = localConfig(root);
    a = open(config);
    await resetWarehouse();
    for (const [name, day] of SEQUENCE) {
      writeRaw(config.lakeDir, 'customers', day.date, 'customers.csv', day.customers);
      writeRaw(config.lakeDir, 'products', day.date, 'products.csv', day.products);
      writeRaw(config.lakeDir, 'orders', day.date, 'orders.csv', day.orders);
      const attempt = (attempts[day.date] = (attempts[day.date] ?? 0) + 1);
      await runDay(a, day.date, attempt, `daily-${day.date}-attempt-${attempt}`);
      await loadFromLocalLake(db, a, day.date);
      steps.push({ name, ...(await bothWarehouses(db, a)) });
    }
  });

  afterAll(async () => {
    await a?.close();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it.each(SEQUENCE.map(([name], i) => [name, i] as const))('holds the same rows in every table after %s', (_name, i) => {
    const step = steps[i]!;
    for (const table of Object.keys(step.local)) expect(step.redshift[table], table).toEqual(step.local[table]);
  });

  it('went through the cases it is meant to: rows dropped, moved, restored and kept for a later batch', () => {
    const last = steps[steps.length - 1]!.local;
    const ids = (t: string, k: string) => last[t]!.map((r) => [r[k], r.batch_date]);
    // customer 2: F2 overwrote it, F2's rerun dropped it (gone), F1's rerun brought F1's back; 6 is gone
    expect(ids('dim_customers', 'customer_id')).toEqual([
      ['1', F1],
      ['2', F1],
      ['3', F1],
      ['4', F2],
      ['5', F3],
    ]);
    expect(last.dim_customers!.find((r) => r.customer_id === '2')?.email).toBe('bob@old.com');
    expect(ids('dim_products', 'product_id')).toEqual([
      ['10', F1],
      ['11', F2],
    ]);
    // 1000 stays F3's after F1's rerun dropped it; 1002 and 1007 are gone; 1008 moved to 10-04
    expect(last.fact_orders!.map((r) => [r.order_id, r.order_date, r.batch_date])).toEqual([
      ['1000', '2025-10-01', F3],
      ['1001', '2025-10-02', F2],
      ['1004', '2025-10-02', F2],
      ['1006', '2025-10-03', F3],
      ['1008', '2025-10-04', F2],
      ['1009', '2025-10-01', F1],
    ]);
    expect(last.agg_daily_sales!.map((r) => [r.order_date, r.total_orders, r.total_revenue, r.avg_order_value])).toEqual([
      ['2025-10-01', '2', '15.33', '7.67'],
      ['2025-10-02', '2', '28.00', '14.00'],
      ['2025-10-03', '1', '9.00', '9.00'],
      ['2025-10-04', '1', '2.00', '2.00'],
    ]);
    expect(last.rejects!.map((r) => [r.batch_date, r.reason]).sort()).toEqual([
      [F1, 'unknown_customer'],
      [F2, 'bad_number'],
      [F2, 'unknown_customer'],
    ]);
    // before F1's rerun its bad customer row and the 09-30 day were there
    const beforeF1Rerun = steps[4]!.local;
    expect(beforeF1Rerun.rejects!.map((r) => [r.batch_date, r.reason])).toContainEqual([F1, 'bad_date']);
    expect(beforeF1Rerun.agg_daily_sales!.map((r) => r.order_date)).toContain('2025-09-30');
  });
});
