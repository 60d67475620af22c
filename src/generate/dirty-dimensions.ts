/**
 * Dirty customers and products files. Rows that must be rejected are extra rows with ids no order
 * uses, so a rejected dimension row never turns good orders into unknown_customer/unknown_product;
 * conflicting rows are written before the row they conflict with, so the good row wins (last in file
 * order) and the warehouse ends up exactly as on a clean day.
 */
import type { Faker } from '@faker-js/faker';
import type { InjectionCounts } from './plan';
import type { Rng } from './random';
import { CATEGORIES } from './reference-data';
import { emailFor, formatCents, placeFor, priceFor } from './world';

/** Ids of injected dimension rows that must be rejected: far above any real id. */
export const REJECTED_DIMENSION_ID_BASE = 5_000_000;

type Row = string[];

interface Placement {
  /** Rows to write before the row at this position. */
  before: Row[];
  /** Replacement for the row itself (an in-place cleanup case). */
  replace?: Row;
  /** Rows to write after it. */
  after: Row[];
}

function placements(rng: Rng, n: number, counts: { positional: number; extra: number }): { positional: number[]; extra: number[] } {
  const positional = rng.sample(n, counts.positional);
  const extra = Array.from({ length: counts.extra }, () => rng.int(0, n - 1));
  return { positional, extra };
}

function assemble(rows: Row[], at: Map<number, Placement>): Row[] {
  const out: Row[] = [];
  rows.forEach((row, i) => {
    const p = at.get(i);
    if (!p) {
      out.push(row);
      return;
    }
    out.push(...p.before, p.replace ?? row, ...p.after);
  });
  return out;
}

function slot(at: Map<number, Placement>, i: number): Placement {
  let p = at.get(i);
  if (!p) {
    p = { before: [], after: [] };
    at.set(i, p);
  }
  return p;
}

const CUSTOMER_BAD_IDS = ['', 'C-1042', 'unknown', ' '];
const BAD_JOIN_DATES = ['2023-02-29', '03/15/2024', '2024-13-01', 'yesterday'];

/** rows: clean customer rows (customer_id, first_name, last_name, email, join_date, city, state). */
export function dirtyCustomers(rows: Row[], counts: InjectionCounts, rng: Rng, faker: Faker): Row[] {
  const positionalKinds = (['duplicate_key', 'exact_duplicate', 'needs_cleaning'] as const).flatMap((k) =>
    Array<typeof k>(counts[k] ?? 0).fill(k),
  );
  const extraKinds = (['missing_key', 'bad_date'] as const).flatMap((k) => Array<typeof k>(counts[k] ?? 0).fill(k));
  const { positional, extra } = placements(rng, rows.length, { positional: positionalKinds.length, extra: extraKinds.length });
  const at = new Map<number, Placement>();
  const variant = new Map<string, number>();
  const nextVariant = (kind: string) => {
    const v = variant.get(kind) ?? 0;
    variant.set(kind, v + 1);
    return v;
  };

  positional.forEach((pos, i) => {
    const row = rows[pos];
    const kind = positionalKinds[i];
    const p = slot(at, pos);
    if (kind === 'exact_duplicate') p.after.push([...row]);
    else if (kind === 'duplicate_key') {
      // An older version of the same customer: another address and e-mail, so the rows conflict.
      const place = placeFor(faker);
      const email = emailFor(faker, row[1], `${row[2]}${rng.int(1, 99)}`);
      p.before.push([row[0], row[1], row[2], email === row[3] ? `old.${email}` : email, row[4], place.city, place.state]);
    } else {
      const v = nextVariant(kind) % 4;
      const fixed = [...row];
      if (v === 0) fixed[1] = `  ${fixed[1]} `;
      else if (v === 1) fixed[6] = fixed[6].toLowerCase();
      else if (v === 2) fixed[5] = '';
      else fixed[3] = `${fixed[3].toUpperCase()} `;
      p.replace = fixed;
    }
  });

  extra.forEach((pos, i) => {
    const kind = extraKinds[i];
    const first = faker.person.firstName();
    const last = faker.person.lastName();
    const place = placeFor(faker);
    const v = nextVariant(kind);
    const id = kind === 'missing_key' ? CUSTOMER_BAD_IDS[v % CUSTOMER_BAD_IDS.length] : String(REJECTED_DIMENSION_ID_BASE + v);
    const joinDate = kind === 'bad_date' ? BAD_JOIN_DATES[v % BAD_JOIN_DATES.length] : '2024-06-01';
    slot(at, pos).before.push([id, first, last, emailFor(faker, first, last), joinDate, place.city, place.state]);
  });
  return assemble(rows, at);
}

const BAD_PRICES = ['twelve', '$19.99', '1,299.00', 'N/A'];

/** rows: clean product rows (product_id, product_name, category, price). */
export function dirtyProducts(rows: Row[], counts: InjectionCounts, rng: Rng, faker: Faker): Row[] {
  const positionalKinds = (['duplicate_key', 'exact_duplicate'] as const).flatMap((k) => Array<typeof k>(counts[k] ?? 0).fill(k));
  const extraKinds = (['bad_number', 'out_of_range'] as const).flatMap((k) => Array<typeof k>(counts[k] ?? 0).fill(k));
  const { positional, extra } = placements(rng, rows.length, { positional: positionalKinds.length, extra: extraKinds.length });
  const at = new Map<number, Placement>();
  positional.forEach((pos, i) => {
    const row = rows[pos];
    const p = slot(at, pos);
    if (positionalKinds[i] === 'exact_duplicate') p.after.push([...row]);
    else p.before.push([row[0], row[1], row[2], formatCents(Math.round(Number(row[3]) * 100) + 100)]);
  });
  extra.forEach((pos, i) => {
    const kind = extraKinds[i];
    const category = rng.pick(CATEGORIES);
    const name = `${faker.commerce.productAdjective()} ${rng.pick(category.nouns)}`;
    const price =
      kind === 'bad_number' ? BAD_PRICES[i % BAD_PRICES.length] : `-${formatCents(priceFor(rng, category.minPrice, category.maxPrice))}`;
    slot(at, pos).before.push([String(REJECTED_DIMENSION_ID_BASE + i), name, category.name, price]);
  });
  return assemble(rows, at);
}
