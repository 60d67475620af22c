import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerateResult } from '../../src/generate';
import { generateLake } from '../../src/generate';
import { FIELD_REJECT_REASONS } from '../../src/shared/contract';
import type { Record_ } from './reference-rules';
import { applyRules } from './reference-rules';

let lake: string;
let result: GenerateResult;

async function rowsOf(entity: string, date: string): Promise<Record_[]> {
  return parse(await readFile(path.join(lake, 'raw', entity, date, `${entity}.csv`)), { columns: true }) as Record_[];
}

beforeAll(async () => {
  lake = await mkdtemp(path.join(os.tmpdir(), 'gen-dirty-'));
  result = await generateLake({ lakeDir: lake, startDate: '2025-10-26', days: 2, dirty: true, seed: 3 });
});
afterAll(async () => {
  await rm(lake, { recursive: true, force: true });
});

describe('--dirty', () => {
  it('injects, on every day, exactly the planned rows of every reject reason, checked against the rules', async () => {
    for (const day of result.plan.days) {
      const customers = applyRules('customers', await rowsOf('customers', day.date));
      const products = applyRules('products', await rowsOf('products', day.date));
      const orders = applyRules('orders', await rowsOf('orders', day.date), {
        customers: new Set(customers.loaded.keys()),
        products: new Set(products.loaded.keys()),
      });
      const outcomes = { customers, products, orders };
      for (const entity of ['customers', 'products', 'orders'] as const) {
        const planned = day.injections[entity];
        const expected = Object.fromEntries(FIELD_REJECT_REASONS.filter((r) => planned[r]).map((r) => [r, planned[r]]));
        expect(outcomes[entity].rejected, `${day.date} ${entity}`).toEqual(expected);
        expect(outcomes[entity].duplicates, `${day.date} ${entity} exact duplicates`).toBe(planned.exact_duplicate ?? 0);
      }
      // What survives is exactly the clean day.
      expect(customers.loaded.size).toBe(day.customers);
      expect(products.loaded.size).toBe(day.products);
      expect(orders.loaded.size).toBe(day.orders);
      // Every reason a well-formed record can earn appears at least once in the day.
      const seen = new Set(Object.values(outcomes).flatMap((o) => Object.keys(o.rejected)));
      expect([...seen].sort()).toEqual([...FIELD_REJECT_REASONS].sort());
    }
  });

  it('keeps the good rows of a dirty day equal to the clean day', async () => {
    const clean = await mkdtemp(path.join(os.tmpdir(), 'gen-clean-'));
    try {
      await generateLake({ lakeDir: clean, startDate: '2025-10-26', days: 2, seed: 3 });
      const cleanOrders = parse(await readFile(path.join(clean, 'raw/orders/2025-10-27/orders.csv')), { columns: true }) as Record_[];
      const dirty = applyRules('orders', await rowsOf('orders', '2025-10-27'), {
        customers: new Set(applyRules('customers', await rowsOf('customers', '2025-10-27')).loaded.keys()),
        products: new Set(applyRules('products', await rowsOf('products', '2025-10-27')).loaded.keys()),
      });
      expect([...dirty.loaded.values()].map((r) => JSON.stringify(r))).toEqual(cleanOrders.map((r) => JSON.stringify(r)));
    } finally {
      await rm(clean, { recursive: true, force: true });
    }
  });

  it('includes rows that only need cleaning (padding, case, empty city)', async () => {
    const customers = await rowsOf('customers', '2025-10-26');
    const padded = customers.filter(
      (c) => c.first_name !== c.first_name.trim() || c.email !== c.email.trim() || c.city === '' || c.state !== c.state.toUpperCase(),
    );
    expect(padded.length).toBe(result.plan.days[0].injections.customers.needs_cleaning);
  });
});
