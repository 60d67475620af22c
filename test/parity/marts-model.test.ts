/**
 * The mart model's own data, against the README's rules: every R/F/M combination falls in exactly
 * the segment the README's table gives, and the oracle's NTILE is SQL's (checked on DuckDB), so the
 * suites that compare engines with the oracle compare them with the stated rule.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { MART_DIALECTS } from '../../src/rules/dialect';
import { BITMAP_BUDGET_BYTES, CUSTOMER_ANALYTICS, factsProfileColumns, factsProfileOf, goldMartStatements } from '../../src/rules/marts';
import { ntile, segmentOf } from './support/marts-oracle';

const inRange = (v: number, range?: readonly [number, number]) => range === undefined || (v >= range[0] && v <= range[1]);

describe('the mart model', () => {
  it('gives every combination of scores 1-5 the segment of the README table (first match wins)', () => {
    const combos: string[] = [];
    for (let r = 1; r <= 5; r++)
      for (let f = 1; f <= 5; f++)
        for (let m = 1; m <= 5; m++) {
          const seg = CUSTOMER_ANALYTICS.segments.find((s) => inRange(r, s.r) && inRange(f, s.f) && inRange(m, s.m));
          combos.push(`${r}${f}${m}:${seg?.name ?? 'none'}`);
          expect(seg?.name, `r=${r} f=${f} m=${m}`).toBe(segmentOf(r, f, m));
        }
    expect(combos).toHaveLength(125);
    expect(new Set(combos.map((c) => c.split(':')[1]))).toEqual(new Set(CUSTOMER_ANALYTICS.segments.map((s) => s.name)));
  });

  it("uses the oracle's NTILE, which is SQL's: the first n % 5 tiles hold one row more", async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    try {
      for (let n = 1; n <= 13; n++) {
        const reader = await db.runAndReadAll(`SELECT CAST(ntile(5) OVER (ORDER BY i) AS INTEGER) AS t FROM range(${n}) r(i) ORDER BY i`);
        const sql = reader.getRowObjectsJS().map((r) => Number(r.t));
        expect(
          Array.from({ length: n }, (_, i) => ntile(i, n, 5)),
          `n=${n}`,
        ).toEqual(sql);
      }
    } finally {
      db.closeSync();
      instance.closeSync();
    }
  });

  it('counts distinct customers by bitmap when the profile allows, with the same rows as count(DISTINCT)', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    const rows = async (sql: string) => (await db.runAndReadAll(sql)).getRowObjectsJS();
    try {
      // Customers spread thin and repeated across products and dates, one of them at the range's far end.
      await db.run(`CREATE TABLE facts AS SELECT i AS order_id, 1000 + (i * 7) % 97 AS customer_id, i % 5 AS product_id,
        DATE '2025-01-01' + (i % 3)::INTEGER AS order_date, CAST(i % 50 + 0.5 AS DECIMAL(10,2)) AS order_amount, (i % 4 + 1)::INTEGER AS quantity
        FROM range(2000) r(i) UNION ALL SELECT 5000, 900000, 1, DATE '2025-01-02', 1.00, 1`);
      const duckdb = MART_DIALECTS.duckdb;
      const profile = factsProfileOf((await rows(`SELECT ${factsProfileColumns().join(', ')} FROM facts`))[0]);
      expect(profile.range.customer_id).toEqual({ lo: 1000n, hi: 900000n });
      const plain = goldMartStatements(duckdb, 'facts');
      const bitmap = goldMartStatements(duckdb, 'facts', profile);
      for (const [i, mart] of plain.entries()) {
        expect(plain[i].select).toContain('count(DISTINCT customer_id)');
        expect(bitmap[i].select).toContain('bitstring_agg(customer_id, 1000, 900000)');
        const order = mart.name === 'agg_daily_sales' ? 'order_date' : 'product_id, order_date';
        expect(await rows(`${bitmap[i].select} ORDER BY ${order}`)).toEqual(await rows(`${plain[i].select} ORDER BY ${order}`));
      }
      // Bitmaps that would outgrow the budget, and ranges not known, leave count(DISTINCT).
      const wide = { ...profile, range: { customer_id: { lo: 0n, hi: BigInt(BITMAP_BUDGET_BYTES) * 8n } } };
      for (const s of [...goldMartStatements(duckdb, 'facts', wide), ...goldMartStatements(duckdb, 'facts', { range: {}, distinct: {} })])
        expect(s.select).toContain('count(DISTINCT customer_id)');
      for (const s of goldMartStatements(MART_DIALECTS.spark, 'facts', profile)) expect(s.select).toContain('count(DISTINCT customer_id)');
    } finally {
      db.closeSync();
      instance.closeSync();
    }
  });
});
