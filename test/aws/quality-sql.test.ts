/**
 * The Athena quality query, run for real on DuckDB over tables shaped like the crawler's (every
 * column text, the date folder as partition_0). Athena's regexp_like is DuckDB's regexp_matches;
 * everything else in the query is common to both engines.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qualityChecksSql } from '../../src/activities/aws/quality-sql';
import { DEFAULT_QUALITY_THRESHOLDS } from '../../src/shared/quality';

let instance: DuckDBInstance;
let db: DuckDBConnection;

const tables = {
  customers: ['customer_id', 'first_name', 'last_name', 'email', 'join_date', 'city', 'state'],
  products: ['product_id', 'product_name', 'category', 'price'],
  orders: ['order_id', 'customer_id', 'product_id', 'order_date', 'order_amount', 'quantity', 'delivery_date'],
};

const rows: Record<keyof typeof tables, [string, (string | null)[]][]> = {
  customers: [
    ['2025-10-27', ['1', 'Ann', 'Lee', 'ann@x.io', '2024-01-01', 'Paris', 'FR']],
    ['2025-10-27', ['2', 'Bob', 'Ray', 'bob@x.io', '2024-13-01', 'Rome', 'IT']], // bad date
    ['2025-10-27', ['3', 'Cy', 'Do', ' ', '2024-01-02', 'Oslo', 'NO']], // no email
    ['2025-10-27', ['3', 'Cy', 'Do', ' ', '2024-01-02', 'Oslo', 'NO']], // exact duplicate
    ['2025-10-27', ['4', 'Di', 'Em', 'di@x.io', '2024-01-03', 'Bern', 'CH']],
    ['2025-10-27', ['4', 'Dee', 'Em', 'di@x.io', '2024-01-03', 'Bern', 'CH']], // conflicting key
    ['2025-10-26', ['9', 'Old', 'Timer', 'o@x.io', '2020-01-01', 'Lyon', 'FR']],
  ],
  products: [
    ['2025-10-27', ['10', 'Pen', 'Office', '1.50']],
    ['2025-10-27', ['11', 'Cup', 'Home', '-2']], // out of range
  ],
  orders: [
    ['2025-10-27', ['100', '1', '10', '2025-10-27', '10.00', '1', null]],
    ['2025-10-27', ['101', '9', '10', '2025-10-27', '5', '2', '2025-10-28']], // customer from an earlier batch
    ['2025-10-27', ['102', '7', '10', '2025-10-27', '5', '1', '']], // unknown customer
    ['2025-10-27', ['103', '1', '10', '2025-10-27', '0', '1', '']], // amount <= 0
    ['2025-10-27', ['104', '1', '10', '2025-10-27', '5', '1', '2025-10-26']], // delivered before ordered
    ['2025-10-28', ['105', 'x', 'y', 'z', 'w', 'v', 'u']], // another day: not measured
  ],
};

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  db = await instance.connect();
  await db.run('CREATE SCHEMA ecommerce_raw');
  for (const [name, cols] of Object.entries(tables) as [keyof typeof tables, string[]][]) {
    await db.run(`CREATE TABLE ecommerce_raw.${name} (${cols.map((c) => `${c} VARCHAR`).join(', ')}, partition_0 VARCHAR)`);
    for (const [day, values] of rows[name]) {
      const lit = (v: string | null) => (v === null ? 'NULL' : `'${v}'`);
      await db.run(`INSERT INTO ecommerce_raw.${name} VALUES (${[...values, day].map(lit).join(', ')})`);
    }
  }
});

afterAll(() => {
  db?.closeSync();
  instance?.closeSync();
});

async function measure(runDate: string): Promise<Record<string, { value: number; threshold: number; passed: boolean }>> {
  const sql = qualityChecksSql('ecommerce_raw', runDate, DEFAULT_QUALITY_THRESHOLDS).replace(/regexp_like\(/g, 'regexp_matches(');
  const reader = await db.runAndReadAll(sql);
  const out: Record<string, { value: number; threshold: number; passed: boolean }> = {};
  for (const r of reader.getRowObjectsJS()) {
    out[`${String(r.entity)}.${String(r.check)}`] = { value: Number(r.value), threshold: Number(r.threshold), passed: Boolean(r.passed) };
  }
  return out;
}

describe('quality checks SQL', () => {
  it("measures each entity's batch by the contract's rules", async () => {
    const m = await measure('2025-10-27');
    expect(Object.keys(m)).toHaveLength(13);
    expect(m['customers.row_count']).toEqual({ value: 6, threshold: 1, passed: true });
    expect(m['customers.completeness']?.value).toBeCloseTo(4 / 6);
    expect(m['customers.validity']?.value).toBeCloseTo(5 / 6);
    expect(m['customers.key_uniqueness']?.value).toBeCloseTo(3 / 4);
    expect(m['products.validity']).toEqual({ value: 0.5, threshold: 0.97, passed: false });
    expect(m['products.completeness']).toEqual({ value: 1, threshold: 0.95, passed: true });
    expect(m['orders.row_count']?.value).toBe(5);
    expect(m['orders.completeness']?.value).toBe(1); // delivery_date is optional
    expect(m['orders.validity']?.value).toBeCloseTo(3 / 5);
    expect(m['orders.key_uniqueness']?.value).toBe(1);
    expect(m['orders.referential_consistency']).toEqual({ value: 0.8, threshold: 0.99, passed: false });
  });

  it('reports an empty batch through row_count only', async () => {
    const m = await measure('2025-11-01');
    expect(m['orders.row_count']).toEqual({ value: 0, threshold: 1, passed: false });
    expect(m['orders.validity']?.passed).toBe(true);
  });

  it('refuses a run date or database name that is not plain', () => {
    expect(() => qualityChecksSql('ecommerce_raw', "2025-10-27' OR '1'='1", DEFAULT_QUALITY_THRESHOLDS)).toThrow(/not an ISO date/);
    expect(() => qualityChecksSql('raw"; DROP TABLE x; --', '2025-10-27', DEFAULT_QUALITY_THRESHOLDS)).toThrow(/not a plain identifier/);
  });
});
