/**
 * How much data each generated day holds, decided before any row is written, so the totals can be
 * printed, tested and trusted without reading the files back.
 */
import type { Entity, RejectReason } from '../shared/contract';
import { dateRange } from './dates';

export interface ScaleSpec {
  /** Customers in the last day's snapshot. */
  customers: number;
  /** Products in the last day's snapshot. */
  products: number;
  orders: { perDay: number } | { total: number };
  description: string;
}

export const SCALES = {
  small: { customers: 200, products: 50, orders: { perDay: 1_000 }, description: '200 customers, 50 products, 1,000 orders a day' },
  // The volumes of the original ShopEase design (seed 001): 7,500 customers, 600 products, 1,020,500 sales.
  seed001: {
    customers: 7_500,
    products: 600,
    orders: { total: 1_020_500 },
    description: '7,500 customers, 600 products, 1,020,500 orders over the period',
  },
} as const satisfies Record<string, ScaleSpec>;

export type ScaleName = keyof typeof SCALES;

export function isScaleName(value: string): value is ScaleName {
  return Object.hasOwn(SCALES, value);
}

/** What a dirty day injects: reject reasons, plus rows that collapse or get cleaned but still load. */
export type Injection = RejectReason | 'exact_duplicate' | 'needs_cleaning';

export type InjectionCounts = Partial<Record<Injection, number>>;

export interface DayPlan {
  date: string;
  index: number;
  customers: number;
  newCustomers: number;
  updatedCustomers: number;
  products: number;
  newProducts: number;
  updatedProducts: number;
  orders: number;
  /** Empty unless --dirty. */
  injections: Record<Entity, InjectionCounts>;
}

export interface GenerationPlan {
  scale: ScaleName;
  dates: string[];
  days: DayPlan[];
  totals: { customers: number; products: number; orders: number; injections: Record<Entity, InjectionCounts> };
}

/** New rows a day adds to a dimension: 0.2% of it, but never more than a fifth of it over the period. */
function growthPerDay(target: number, days: number): number {
  if (days <= 1) return 0;
  return Math.min(Math.max(1, Math.round(target * 0.002)), Math.floor((target * 0.2) / (days - 1)));
}

function ordersPerDay(spec: ScaleSpec, days: number): number[] {
  if ('perDay' in spec.orders) return Array<number>(days).fill(spec.orders.perDay);
  const { total } = spec.orders;
  const base = Math.floor(total / days);
  return Array.from({ length: days }, (_, i) => base + (i < total % days ? 1 : 0));
}

const atLeastOne = (n: number, rate: number) => Math.max(1, Math.floor(n * rate));

/**
 * Dirty volumes stay small enough for the default quality gate (validity >= 0.97, key uniqueness
 * >= 0.99, referential consistency >= 0.99) to pass, so a dirty run still loads and shows its rejects.
 * Orders carry every reason; the small dimensions only what their size can absorb.
 */
export function planInjections(customers: number, products: number, orders: number): Record<Entity, InjectionCounts> {
  const perOrderReason = atLeastOne(orders, 0.0005);
  const perCustomerReason = atLeastOne(customers, 0.001);
  return {
    customers: {
      missing_key: perCustomerReason,
      bad_date: perCustomerReason,
      duplicate_key: perCustomerReason,
      exact_duplicate: perCustomerReason,
      needs_cleaning: atLeastOne(customers, 0.002),
    },
    products: {
      bad_number: 1,
      ...(products >= 100 ? { out_of_range: atLeastOne(products, 0.002), duplicate_key: 1 } : {}),
      exact_duplicate: 1,
    },
    orders: {
      missing_key: perOrderReason,
      bad_date: perOrderReason,
      bad_number: perOrderReason,
      out_of_range: perOrderReason,
      duplicate_key: perOrderReason,
      unknown_customer: perOrderReason,
      unknown_product: perOrderReason,
      exact_duplicate: perOrderReason,
    },
  };
}

function emptyInjections(): Record<Entity, InjectionCounts> {
  return { customers: {}, products: {}, orders: {} };
}

function addCounts(into: InjectionCounts, from: InjectionCounts): void {
  for (const [k, v] of Object.entries(from) as [Injection, number][]) into[k] = (into[k] ?? 0) + v;
}

/** The most orders one generation writes: ids stay below 2^63 and a day's file below a few GB. */
export const MAX_ORDERS = 100_000_000;

export function planGeneration(opts: {
  startDate: string;
  days: number;
  scale: ScaleName;
  dirty: boolean;
  /** Orders over the whole period instead of the scale's (customers and products stay the scale's). */
  orders?: number;
}): GenerationPlan {
  const scaled: ScaleSpec = SCALES[opts.scale];
  const spec: ScaleSpec = opts.orders === undefined ? scaled : { ...scaled, orders: { total: opts.orders } };
  const dates = dateRange(opts.startDate, opts.days);
  const customerGrowth = growthPerDay(spec.customers, opts.days);
  const productGrowth = growthPerDay(spec.products, opts.days);
  const orders = ordersPerDay(spec, opts.days);
  const totals = { customers: spec.customers, products: spec.products, orders: 0, injections: emptyInjections() };
  const days = dates.map((date, index): DayPlan => {
    const remaining = opts.days - 1 - index;
    const customers = spec.customers - customerGrowth * remaining;
    const products = spec.products - productGrowth * remaining;
    const day: DayPlan = {
      date,
      index,
      customers,
      newCustomers: index === 0 ? 0 : customerGrowth,
      updatedCustomers: index === 0 ? 0 : Math.max(1, Math.round(customers * 0.004)),
      products,
      newProducts: index === 0 ? 0 : productGrowth,
      updatedProducts: index === 0 ? 0 : Math.max(1, Math.round(products * 0.01)),
      orders: orders[index],
      injections: opts.dirty ? planInjections(customers, products, orders[index]) : emptyInjections(),
    };
    totals.orders += day.orders;
    for (const entity of ['customers', 'products', 'orders'] as const) addCounts(totals.injections[entity], day.injections[entity]);
    return day;
  });
  return { scale: opts.scale, dates, days, totals };
}

/** Rows a day's file holds: the clean rows, plus every injected row except the in-place cleanups. */
export function fileRows(day: DayPlan, entity: Entity): number {
  const clean = entity === 'customers' ? day.customers : entity === 'products' ? day.products : day.orders;
  const extra = Object.entries(day.injections[entity]).reduce((sum, [k, v]) => (k === 'needs_cleaning' ? sum : sum + v), 0);
  return clean + extra;
}
