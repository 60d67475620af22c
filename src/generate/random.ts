/**
 * Seeded randomness. Every stream is seeded from the user's seed plus a purpose (and a date), so a
 * file's bytes depend only on those, never on the clock or on what else was generated first.
 */
import type { Randomizer } from '@faker-js/faker';
import { Faker, base, en, en_US, generateMersenne53Randomizer } from '@faker-js/faker';

export const PURPOSE = {
  customers: 1,
  products: 2,
  updates: 3,
  orders: 4,
  dirtyCustomers: 5,
  dirtyProducts: 6,
  dirtyOrders: 7,
} as const;

export class Rng {
  constructor(private readonly randomizer: Randomizer) {}

  /** [0, 1) */
  next(): number {
    return this.randomizer.next();
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.randomizer.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.randomizer.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.randomizer.next() * items.length)];
  }

  /** `count` distinct integers in [0, n), ascending. */
  sample(n: number, count: number): number[] {
    if (count > n) throw new Error(`cannot pick ${count} distinct positions out of ${n}`);
    const chosen = new Set<number>();
    while (chosen.size < count) chosen.add(Math.floor(this.randomizer.next() * n));
    return [...chosen].sort((a, b) => a - b);
  }
}

export interface Seeded {
  rng: Rng;
  faker: Faker;
}

export function seeded(seed: number, ...parts: number[]): Seeded {
  const randomizer = generateMersenne53Randomizer();
  randomizer.seed([seed, ...parts]);
  return { rng: new Rng(randomizer), faker: new Faker({ locale: [en_US, en, base], randomizer }) };
}
