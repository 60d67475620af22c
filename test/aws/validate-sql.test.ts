/**
 * The Athena quality query on a real Trino 476 server (Athena engine v3 is Trino), over tables shaped
 * like the crawler's: every column text, the date folder as partition_0. Expected values follow the
 * design's formulas (n counts exact copies once; referential consistency among orders passing 0-5).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qualityChecksSql, SHEETS_TABLE_PREFIX } from '../../src/activities/aws/validate-sql';
import { DEFAULT_QUALITY_THRESHOLDS } from '../../src/shared/quality';
import type { TestTrino } from '../support/trino';
import { loadVarcharTable, startTrino } from '../support/trino';

let trino: TestTrino;

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
  trino = await startTrino();
  for (const [name, cols] of Object.entries(tables) as [keyof typeof tables, string[]][]) {
    await loadVarcharTable(
      trino,
      name,
      [...cols, 'partition_0'],
      rows[name].map(([day, values]) => [...values, day]),
    );
    // No workbook was delivered: the converted sheets' tables are empty.
    await loadVarcharTable(trino, `${SHEETS_TABLE_PREFIX}${name}`, [...cols, 'partition_0'], []);
  }
});

afterAll(async () => {
  await trino?.stop();
});

async function measure(runDate: string): Promise<Record<string, { value: number; threshold: number; passed: boolean }>> {
  const res = await trino.query(qualityChecksSql('default', runDate, DEFAULT_QUALITY_THRESHOLDS));
  const out: Record<string, { value: number; threshold: number; passed: boolean }> = {};
  for (const [entity, check, value, threshold, passed] of res.rows) {
    out[`${String(entity)}.${String(check)}`] = { value: Number(value), threshold: Number(threshold), passed: Boolean(passed) };
  }
  return out;
}

describe('quality checks SQL', () => {
  it("measures each entity's batch by the contract's rules", async () => {
    const m = await measure('2025-10-27');
    expect(Object.keys(m)).toHaveLength(13);
    // The exact copy of customer 3 counts once; of customer 4's two records one is duplicate_key.
    expect(m['customers.row_count']).toEqual({ value: 5, threshold: 1, passed: true });
    expect(m['customers.completeness']?.value).toBeCloseTo(4 / 5, 12);
    expect(m['customers.validity']?.value).toBeCloseTo(4 / 5, 12);
    expect(m['customers.key_uniqueness']?.value).toBeCloseTo(1 - 1 / 4, 12);
    expect(m['products.validity']).toEqual({ value: 0.5, threshold: 0.97, passed: false });
    expect(m['products.completeness']).toEqual({ value: 1, threshold: 0.95, passed: true });
    expect(m['orders.row_count']?.value).toBe(5);
    expect(m['orders.completeness']?.value).toBe(1); // delivery_date is optional
    expect(m['orders.validity']?.value).toBeCloseTo(3 / 5, 12);
    expect(m['orders.key_uniqueness']?.value).toBe(1);
    // Of the three orders passing checks 0-5, one refers to customer 7, who exists in no batch.
    expect(m['orders.referential_consistency']?.value).toBeCloseTo(1 - 1 / 3, 12);
    expect(m['orders.referential_consistency']).toMatchObject({ threshold: 0.99, passed: false });
  });

  it('reports an empty batch through row_count only', async () => {
    const m = await measure('2025-11-01');
    expect(m['orders.row_count']).toEqual({ value: 0, threshold: 1, passed: false });
    // Nothing to measure gives 1.0: only row_count fails an empty batch.
    expect(m['orders.validity']).toEqual({ value: 1, threshold: 0.97, passed: true });
  });

  it('refuses a run date or database name that is not plain', () => {
    expect(() => qualityChecksSql('ecommerce_raw', "2025-10-27' OR '1'='1", DEFAULT_QUALITY_THRESHOLDS)).toThrow(/not an ISO date/);
    expect(() => qualityChecksSql('raw"; DROP TABLE x; --', '2025-10-27', DEFAULT_QUALITY_THRESHOLDS)).toThrow(/not a plain identifier/);
  });
});
