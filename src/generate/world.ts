/**
 * The customers and products as they are on each generated day. Everyone who will ever exist is drawn
 * up front from the seed (so customer 42 is the same person at every scale and period); a day then
 * reveals its new arrivals and applies a few updates (moves, new e-mail addresses, price changes).
 */
import type { Faker } from '@faker-js/faker';
import { addDays, dayNumber } from './dates';
import type { DayPlan } from './plan';
import type { Rng } from './random';
import { PURPOSE, seeded } from './random';
import { CATEGORIES, EMAIL_DOMAINS, US_PLACES, VARIANTS } from './reference-data';

export interface Customer {
  id: number;
  firstName: string;
  lastName: string;
  email: string;
  joinDate: string;
  city: string;
  state: string;
}

export interface Product {
  id: number;
  name: string;
  category: string;
  priceCents: number;
}

export const CUSTOMER_HEADER = ['customer_id', 'first_name', 'last_name', 'email', 'join_date', 'city', 'state'];
export const PRODUCT_HEADER = ['product_id', 'product_name', 'category', 'price'];

const PLACE_WEIGHTS = US_PLACES.map(([city, state, weight]) => ({ weight, value: { city, state } }));
// A fixed window, so a customer's join date does not depend on which date a generation starts at.
const JOIN_WINDOW = { from: '2019-01-01T00:00:00Z', to: '2024-12-31T00:00:00Z' };

export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

export function customerRow(c: Customer): string[] {
  return [String(c.id), c.firstName, c.lastName, c.email, c.joinDate, c.city, c.state];
}

export function productRow(p: Product): string[] {
  return [String(p.id), p.name, p.category, formatCents(p.priceCents)];
}

export function placeFor(faker: Faker): { city: string; state: string } {
  return faker.helpers.weightedArrayElement(PLACE_WEIGHTS);
}

export function emailFor(faker: Faker, firstName: string, lastName: string): string {
  return faker.internet.email({ firstName, lastName, provider: faker.helpers.arrayElement(EMAIL_DOMAINS) });
}

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function makeCustomer(faker: Faker, id: number, joinedBy: string): Customer {
  const sex = faker.person.sexType();
  const firstName = faker.person.firstName(sex);
  const lastName = faker.person.lastName();
  const drawn = isoDay(faker.date.between(JOIN_WINDOW));
  const joinDate = drawn > joinedBy ? joinedBy : drawn;
  return { id, firstName, lastName, email: emailFor(faker, firstName, lastName), joinDate, ...placeFor(faker) };
}

/** A price in cents inside the category's range, skewed to the cheap end, ending like shop prices do. */
export function priceFor(rng: Rng, minDollars: number, maxDollars: number): number {
  const dollars = Math.floor(minDollars + (maxDollars - minDollars) * rng.next() ** 2);
  return dollars * 100 + rng.pick([99, 99, 99, 49, 95, 0]);
}

function makeProduct(faker: Faker, rng: Rng, id: number): Product {
  const category = rng.pick(CATEGORIES);
  let name = `${faker.commerce.productAdjective()} ${rng.pick(category.nouns)}`;
  if (rng.chance(0.2)) name += `, ${rng.pick(VARIANTS)}`;
  return { id, name, category: category.name, priceCents: priceFor(rng, category.minPrice, category.maxPrice) };
}

export class World {
  readonly customers: Customer[];
  readonly products: Product[];
  private customersVisible = 0;
  private productsVisible = 0;

  constructor(
    private readonly seed: number,
    maxCustomers: number,
    maxProducts: number,
    startDate: string,
  ) {
    // Nobody in the opening population joins after the day before the first generated date.
    const joinedBy = addDays(startDate, -1);
    const c = seeded(seed, PURPOSE.customers);
    this.customers = Array.from({ length: maxCustomers }, (_, i) => makeCustomer(c.faker, i + 1, joinedBy));
    const p = seeded(seed, PURPOSE.products);
    this.products = Array.from({ length: maxProducts }, (_, i) => makeProduct(p.faker, p.rng, i + 1));
  }

  /** Moves the world to `day`: reveals its new customers and products and applies its updates. */
  advanceTo(day: DayPlan): void {
    const { rng, faker } = seeded(this.seed, PURPOSE.updates, dayNumber(day.date));
    if (day.index > 0) {
      // Updates touch only rows that existed yesterday, so every update is visible as a change.
      for (const i of rng.sample(this.customersVisible, Math.min(day.updatedCustomers, this.customersVisible))) {
        const c = this.customers[i];
        const roll = rng.next();
        if (roll < 0.5) Object.assign(c, placeFor(faker));
        else if (roll < 0.8) c.email = emailFor(faker, c.firstName, c.lastName);
        else {
          c.lastName = faker.person.lastName();
          c.email = emailFor(faker, c.firstName, c.lastName);
        }
      }
      for (const i of rng.sample(this.productsVisible, Math.min(day.updatedProducts, this.productsVisible))) {
        const p = this.products[i];
        const dollars = Math.max(1, Math.round((p.priceCents / 100) * (0.85 + 0.3 * rng.next())));
        p.priceCents = dollars * 100 + (p.priceCents % 100);
      }
    }
    for (let i = this.customersVisible; i < day.customers; i++) {
      if (day.index > 0) this.customers[i].joinDate = day.date;
    }
    this.customersVisible = day.customers;
    this.productsVisible = day.products;
  }

  visibleCustomers(): Customer[] {
    return this.customers.slice(0, this.customersVisible);
  }

  visibleProducts(): Product[] {
    return this.products.slice(0, this.productsVisible);
  }
}
