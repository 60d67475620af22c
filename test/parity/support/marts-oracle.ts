/**
 * The marts computed in plain TypeScript from fact rows, as the README states their rules: no SQL
 * and nothing of src/rules, so an engine's marts can be checked against an independent reading.
 * Money is handled in whole cents; every value comes out as the text a warehouse prints.
 */

export interface Fact {
  order_id: string;
  customer_id: string;
  product_id: string;
  order_date: string;
  order_amount: string;
  quantity: string;
}

export type TextRow = Record<string, string>;

const cents = (amount: string): bigint => {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(amount.trim());
  if (!m) throw new Error(`not a money amount: ${amount}`);
  const value = BigInt(m[2]) * 100n + BigInt((m[3] ?? '').padEnd(2, '0'));
  return m[1] ? -value : value;
};

const money = (c: bigint): string => {
  const sign = c < 0n ? '-' : '';
  const abs = c < 0n ? -c : c;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
};

const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function group<T>(rows: T[], key: (r: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) out.set(key(r), [...(out.get(key(r)) ?? []), r]);
  return out;
}

/** Per (product_id, order_date): orders, revenue, units, distinct customers; sorted by product, then date. */
export function productPerformance(facts: Fact[]): TextRow[] {
  const groups = group(facts, (f) => `${f.product_id.padStart(20, '0')}|${f.order_date}`);
  return [...groups.keys()].sort(byKey).map((k) => {
    const rows = groups.get(k)!;
    return {
      product_id: rows[0].product_id,
      order_date: rows[0].order_date,
      total_orders: String(rows.length),
      total_revenue: money(rows.reduce((s, r) => s + cents(r.order_amount), 0n)),
      total_quantity: String(rows.reduce((s, r) => s + Number(r.quantity), 0)),
      unique_customers: String(new Set(rows.map((r) => r.customer_id)).size),
    };
  });
}

/** SQL's NTILE(tiles) for the row at `index` (0-based) of `n` ordered rows: the first n % tiles buckets hold one row more. */
export function ntile(index: number, n: number, tiles: number): number {
  const small = Math.floor(n / tiles);
  const big = small + 1;
  const bigBuckets = n % tiles;
  if (index < bigBuckets * big) return Math.floor(index / big) + 1;
  return bigBuckets + Math.floor((index - bigBuckets * big) / small) + 1;
}

/** The README's segment table, read top to bottom. */
export function segmentOf(r: number, f: number, m: number): string {
  if (r >= 4 && f >= 4 && m >= 4) return 'Champions';
  if (r >= 3 && f >= 3) return 'Loyal';
  if (r >= 4) return 'New';
  if (r === 3) return 'Promising';
  if (f >= 3) return 'At risk';
  if (r === 2) return 'Hibernating';
  return 'Lost';
}

const days = (from: string, to: string) => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);

/**
 * Per customer with an order on or before `asOf`: recency in days, orders, amount, and the R/F/M
 * quintiles over all of them (a higher score is more recent, more often, more money; ties go by
 * customer_id, the lower id scoring lower); sorted by customer_id.
 */
export function customerAnalytics(facts: Fact[], asOf: string): TextRow[] {
  const groups = group(
    facts.filter((f) => f.order_date <= asOf),
    (f) => f.customer_id,
  );
  const customers = [...groups.entries()].map(([id, rows]) => {
    const last = rows.map((r) => r.order_date).sort(byKey)[rows.length - 1];
    return {
      id: BigInt(id),
      last,
      recency: days(last, asOf),
      frequency: rows.length,
      monetary: rows.reduce((s, r) => s + cents(r.order_amount), 0n),
    };
  });
  type C = (typeof customers)[number];
  const byId = (a: C, b: C) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const n = customers.length;
  const scores = (compare: (a: C, b: C) => number) => {
    const ordered = [...customers].sort((a, b) => compare(a, b) || byId(a, b));
    return new Map(ordered.map((c, i) => [c.id, ntile(i, n, 5)]));
  };
  const r = scores((a, b) => b.recency - a.recency);
  const f = scores((a, b) => a.frequency - b.frequency);
  const m = scores((a, b) => (a.monetary < b.monetary ? -1 : a.monetary > b.monetary ? 1 : 0));
  return [...customers].sort(byId).map((c) => {
    const [rs, fs, ms] = [r.get(c.id)!, f.get(c.id)!, m.get(c.id)!];
    return {
      customer_id: String(c.id),
      as_of_date: asOf,
      last_order_date: c.last,
      recency_days: String(c.recency),
      frequency: String(c.frequency),
      monetary: money(c.monetary),
      r_score: String(rs),
      f_score: String(fs),
      m_score: String(ms),
      segment: segmentOf(rs, fs, ms),
    };
  });
}
