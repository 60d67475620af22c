/**
 * The warehouse SQL of the AWS backend (sql/redshift/*.sql), run on a real PostgreSQL: the same files,
 * with Redshift table attributes stripped, GETDATE() defined, and each COPY from S3 replaced by inserting
 * the rows that Parquet folder would hold. Statements run as one transaction, as BatchExecuteStatement
 * runs them.
 */
import { Client, types } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres } from './support/postgres';
import type { TestPostgres } from './support/postgres';
import { loadStatements } from '../../src/activities/aws/sql-templates';
import { parseCopy, readSql } from './support/sql';
import { COPY_ROLE, PROCESSED, SCHEMA, createWarehouse, runLoad, runVerify } from './support/warehouse';

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
  return { customer_id: id, first_name: first, last_name: 'Test', email: `${first.toLowerCase()}@example.com`, join_date: '2025-01-01', city, state };
}

function product(id: number, name: string, price: string): Row {
  return { product_id: id, product_name: name, category: 'Tools', price };
}

function order(id: number, customerId: number, productId: number, date: string, amount: string | null, quantity: number): Row {
  return { order_id: id, customer_id: customerId, product_id: productId, order_date: date, order_amount: amount, quantity, delivery_date: null };
}

function metrics(date: string, loaded: [number, number, number], revenue: string): Row {
  const [c, p, o] = loaded;
  return {
    etl_run_id: `jr_${date}`,
    customers_read: c + 1, customers_loaded: c, customers_rejected: 1, customers_duplicates: 0,
    products_read: p, products_loaded: p, products_rejected: 0, products_duplicates: 0,
    orders_read: o + 2, orders_loaded: o, orders_rejected: 1, orders_duplicates: 1,
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
    { entity: 'customers', source_file: 'customers.csv', row_number: 3, reason: 'bad_date', raw_record: '{"customer_id":"9","join_date":"2025-02-30"}' },
    { entity: 'orders', source_file: 'orders.csv', row_number: 5, reason: 'unknown_customer', raw_record: '{"order_id":"104","customer_id":"99"}' },
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

const TABLES = ['dim_customers', 'dim_products', 'fact_orders', 'agg_daily_sales', 'rejects', 'load_audit'];
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
      { order_date: '2025-10-26', total_orders: '1', total_revenue: '40.00', total_quantity: '2', unique_customers: '1', avg_order_value: '40.00' },
      // 15.01 / 2 = 7.505 rounds half-up
      { order_date: '2025-10-27', total_orders: '2', total_revenue: '15.01', total_quantity: '4', unique_customers: '2', avg_order_value: '7.51' },
    ]);
    expect(s.rejects.map((r) => [r.entity, r.row_number, r.reason])).toEqual([
      ['customers', 3, 'bad_date'],
      ['orders', 5, 'unknown_customer'],
    ]);
    expect(s.load_audit).toHaveLength(1);
    const audit = (await db.query(`SELECT etl_run_id, orders_loaded, orders_revenue, transform_started_at::text AS started, transform_finished_at::text AS finished, loaded_at FROM ${SCHEMA}.load_audit`)).rows[0];
    expect(audit).toMatchObject({ etl_run_id: 'jr_2025-10-27', orders_loaded: '3', orders_revenue: '55.01', started: '2025-10-27 08:00:00', finished: '2025-10-27 08:00:01.5' });
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
    expect(s.agg_daily_sales.map((r) => [r.order_date, r.total_orders, r.total_revenue, r.total_quantity, r.unique_customers, r.avg_order_value])).toEqual([
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

  it('uses only the placeholders the AWS backend renders', () => {
    for (const name of ['ddl', 'load', 'verify'] as const) {
      const used = new Set([...readSql(name).matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]));
      expect([...used].filter((p) => !['schema', 'run_date', 'processed_uri', 'copy_role_arn'].includes(p))).toEqual([]);
    }
    expect(() => loadStatements('load.sql', { schema: SCHEMA, run_date: D1.date })).toThrow(/\{\{processed_uri\}\}/);
  });
});
