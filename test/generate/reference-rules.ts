/**
 * An independent reading of the design's reject rules, written from pipeline.md for these tests only,
 * so the generator is checked against the rules themselves and not against either engine.
 */
import type { Entity, RejectReason } from '../../src/shared/contract';
import { isIsoDate } from '../../src/shared/contract';

export type Record_ = Record<string, string>;

export interface Outcome {
  read: number;
  duplicates: number;
  rejected: Partial<Record<RejectReason, number>>;
  /** Surviving rows by key. */
  loaded: Map<string, Record_>;
}

const INT = /^-?\d+$/;
const NUM = /^-?\d+(\.\d+)?$/;

const KEYS: Record<Entity, string[]> = {
  customers: ['customer_id'],
  products: ['product_id'],
  orders: ['order_id', 'customer_id', 'product_id'],
};
const DATES: Record<Entity, string[]> = { customers: ['join_date'], products: [], orders: ['order_date', 'delivery_date'] };
const KEY: Record<Entity, string> = { customers: 'customer_id', products: 'product_id', orders: 'order_id' };

function firstFailure(entity: Entity, r: Record_): RejectReason | undefined {
  const v = (c: string) => (r[c] ?? '').trim();
  if (KEYS[entity].some((c) => !INT.test(v(c)))) return 'missing_key';
  if (DATES[entity].some((c) => v(c) !== '' && !isIsoDate(v(c)))) return 'bad_date';
  if (entity === 'orders' && v('order_date') === '') return 'bad_date';
  if (entity === 'products' && !NUM.test(v('price'))) return 'bad_number';
  if (entity === 'orders' && (!NUM.test(v('order_amount')) || !INT.test(v('quantity')))) return 'bad_number';
  if (entity === 'products' && Number(v('price')) < 0) return 'out_of_range';
  if (entity === 'orders') {
    if (Number(v('order_amount')) <= 0 || Number(v('quantity')) <= 0) return 'out_of_range';
    if (v('delivery_date') !== '' && v('delivery_date') < v('order_date')) return 'out_of_range';
  }
  return undefined;
}

export function applyRules(entity: Entity, rows: Record_[], dims?: { customers: Set<string>; products: Set<string> }): Outcome {
  const seen = new Set<string>();
  const distinct: Record_[] = [];
  for (const r of rows) {
    const sig = JSON.stringify(Object.values(r));
    if (seen.has(sig)) continue;
    seen.add(sig);
    distinct.push(r);
  }
  const rejected: Outcome['rejected'] = {};
  const reject = (reason: RejectReason) => (rejected[reason] = (rejected[reason] ?? 0) + 1);
  const passing: Record_[] = [];
  for (const r of distinct) {
    const reason = firstFailure(entity, r);
    if (reason) reject(reason);
    else passing.push(r);
  }
  const byKey = new Map<string, Record_>();
  for (const r of passing) {
    const key = String(Number(r[KEY[entity]].trim()));
    if (byKey.has(key)) reject('duplicate_key');
    byKey.set(key, r); // the last in file order wins
  }
  if (entity === 'orders' && dims) {
    for (const [key, r] of byKey) {
      if (!dims.customers.has(String(Number(r.customer_id)))) {
        reject('unknown_customer');
        byKey.delete(key);
      } else if (!dims.products.has(String(Number(r.product_id)))) {
        reject('unknown_product');
        byKey.delete(key);
      }
    }
  }
  return { read: rows.length, duplicates: rows.length - distinct.length, rejected, loaded: byKey };
}
