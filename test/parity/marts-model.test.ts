/**
 * The mart model's own data, against the README's rules: every R/F/M combination falls in exactly
 * the segment the README's table gives, and the oracle's NTILE is SQL's (checked on DuckDB), so the
 * suites that compare engines with the oracle compare them with the stated rule.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { CUSTOMER_ANALYTICS } from '../../src/rules/marts';
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
});
