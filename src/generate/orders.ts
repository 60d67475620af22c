/**
 * A day's orders, produced one row at a time so a million orders never sit in memory. Order ids are
 * `YYYYMMDD` followed by a 7-digit sequence (wider on a day of 9 million orders or more), so days
 * generated separately never reuse an id.
 */
import type { InjectionCounts } from './plan';
import type { DayPlan } from './plan';
import { addDays, compactDate, dayNumber } from './dates';
import type { Rng } from './random';
import { PURPOSE, seeded } from './random';
import type { World } from './world';
import { formatCents } from './world';

export const ORDER_HEADER = ['order_id', 'customer_id', 'product_id', 'order_date', 'order_amount', 'quantity', 'delivery_date'];

/**
 * The width of a day's order sequence and where its injected orders' sequence starts, far above the
 * day's real orders. Days under 9 million orders keep the 7 digits they always had.
 */
export function orderSequence(orders: number): { width: number; injectedBase: number } {
  if (orders < 9_000_000) return { width: 7, injectedBase: 9_000_000 };
  const width = String(orders).length + 1;
  return { width, injectedBase: 9 * 10 ** (width - 1) };
}
/** Customer and product ids that no dimension holds. */
export const UNKNOWN_ID_BASE = 9_000_000;

type Row = string[];
type ExtraKind = 'missing_key' | 'bad_date' | 'bad_number' | 'out_of_range' | 'unknown_customer' | 'unknown_product';
type Action = { kind: 'duplicate_key' } | { kind: 'exact_duplicate' } | { kind: ExtraKind; variant: number };

const EXTRA_KINDS: readonly ExtraKind[] = ['missing_key', 'bad_date', 'bad_number', 'out_of_range', 'unknown_customer', 'unknown_product'];

// Most orders buy one item; a few buy up to five.
const QUANTITIES = [1, 1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5];

class OrderMaker {
  private readonly orderDates: string[];
  private readonly deliveryDates: string[][];
  private readonly idPrefix: string;
  private readonly width: number;

  constructor(
    day: DayPlan,
    private readonly rng: Rng,
    private readonly customers: number,
    private readonly prices: Int32Array,
  ) {
    this.width = orderSequence(day.orders).width;
    // Most orders are from the batch date; a few arrive a day or two late.
    this.orderDates = [0, 1, 2].map((late) => addDays(day.date, -late));
    this.deliveryDates = this.orderDates.map((d) => [2, 3, 4, 5, 6, 7].map((lag) => addDays(d, lag)));
    this.idPrefix = String(compactDate(day.date));
  }

  make(seq: number): Row {
    const r = this.rng;
    // Long-standing customers and the first products in the catalogue sell more (cheap skews: no pow).
    const u = r.next();
    const customerId = 1 + Math.floor(this.customers * u * (0.6 + 0.4 * u));
    const v = r.next();
    const productIndex = Math.floor(this.prices.length * v * Math.sqrt(v));
    const quantity = QUANTITIES[Math.floor(r.next() * QUANTITIES.length)];
    const late = r.next();
    const dateIndex = late < 0.94 ? 0 : late < 0.98 ? 1 : 2;
    const delivery = r.next() < 0.15 ? '' : this.deliveryDates[dateIndex][Math.floor(r.next() * 6)];
    return [
      this.idPrefix + String(seq).padStart(this.width, '0'),
      String(customerId),
      String(productIndex + 1),
      this.orderDates[dateIndex],
      formatCents(this.prices[productIndex] * quantity),
      String(quantity),
      delivery,
    ];
  }
}

function brokenOrder(base: Row, kind: ExtraKind, variant: number): Row {
  const row = [...base];
  const v = variant % 4;
  switch (kind) {
    case 'missing_key':
      if (v === 0) row[0] = '';
      else if (v === 1) row[1] = `CUST-${row[1]}`;
      else if (v === 2) row[2] = '';
      else row[0] = 'N/A';
      break;
    case 'bad_date': {
      const [y, m] = row[3].split('-');
      if (v === 0) row[3] = `${y}-${m}-32`;
      else if (v === 1) row[3] = '';
      else if (v === 2) row[3] = `${m}/15/${y}`;
      else row[6] = 'TBD';
      break;
    }
    case 'bad_number':
      if (v === 0) row[4] = 'twelve';
      else if (v === 1) row[5] = '1.5';
      else if (v === 2) row[4] = `$${row[4]}`;
      else row[5] = 'two';
      break;
    case 'out_of_range':
      if (v === 0) row[4] = '0.00';
      else if (v === 1) row[5] = '0';
      else if (v === 2) row[4] = `-${row[4]}`;
      else row[6] = addDays(row[3], -3);
      break;
    case 'unknown_customer':
      row[1] = String(UNKNOWN_ID_BASE + variant);
      break;
    case 'unknown_product':
      row[2] = String(UNKNOWN_ID_BASE + variant);
      break;
  }
  return row;
}

function planActions(rng: Rng, n: number, counts: InjectionCounts): Map<number, Action[]> {
  const at = new Map<number, Action[]>();
  const add = (pos: number, a: Action) => {
    const list = at.get(pos);
    if (list) list.push(a);
    else at.set(pos, [a]);
  };
  const positional = (['duplicate_key', 'exact_duplicate'] as const).flatMap((k) => Array<typeof k>(counts[k] ?? 0).fill(k));
  rng
    .sample(n, positional.length)
    .forEach((pos, i) => add(pos, positional[i] === 'duplicate_key' ? { kind: 'duplicate_key' } : { kind: 'exact_duplicate' }));
  for (const kind of EXTRA_KINDS) {
    for (let v = 0; v < (counts[kind] ?? 0); v++) add(rng.int(0, n - 1), { kind, variant: v });
  }
  return at;
}

/** The day's order rows in file order (header not included). */
export function* orderRows(day: DayPlan, world: World, seed: number): Generator<Row> {
  const customers = world.visibleCustomers().length;
  const prices = Int32Array.from(world.visibleProducts(), (p) => p.priceCents);
  const { rng } = seeded(seed, PURPOSE.orders, dayNumber(day.date));
  const maker = new OrderMaker(day, rng, customers, prices);
  const dirty = seeded(seed, PURPOSE.dirtyOrders, dayNumber(day.date)).rng;
  const actions = planActions(dirty, day.orders, day.injections.orders);
  // Injected rows draw from their own stream, so a dirty day's good rows equal the clean day's.
  const injected = new OrderMaker(day, dirty, customers, prices);
  let injectedSeq = orderSequence(day.orders).injectedBase;

  for (let i = 0; i < day.orders; i++) {
    const row = maker.make(i + 1);
    const todo = actions.get(i);
    if (!todo) {
      yield row;
      continue;
    }
    const after: Row[] = [];
    for (const a of todo) {
      if (a.kind === 'exact_duplicate') after.push([...row]);
      else if (a.kind === 'duplicate_key') {
        // An earlier, conflicting version of this order (another quantity); the later good row wins.
        const quantity = Number(row[5]) + 1;
        const unitCents = Math.round((Number(row[4]) * 100) / Number(row[5]));
        yield [row[0], row[1], row[2], row[3], formatCents(unitCents * quantity), String(quantity), row[6]];
      } else yield brokenOrder(injected.make(++injectedSeq), a.kind, a.variant);
    }
    yield row;
    yield* after;
  }
}
