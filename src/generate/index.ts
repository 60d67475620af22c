/**
 * Fake but realistic raw data in the layout of the data contract:
 * raw/{customers,products,orders}/{date}/{entity}.csv under a lake folder. The same options and seed
 * always give byte-identical files.
 */
import { rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { Entity } from '../shared/contract';
import { ENTITIES, isIsoDate } from '../shared/contract';
import { writeCsvFile } from './csv-file';
import { dayNumber } from './dates';
import { dirtyCustomers, dirtyProducts } from './dirty-dimensions';
import type { ExistingPartition } from './lake';
import { existingPartitions, generatedFile, scratchDir } from './lake';
import { ORDER_HEADER, orderRows } from './orders';
import type { DayPlan, GenerationPlan, ScaleName } from './plan';
import { MAX_ORDERS, SCALES, fileRows, planGeneration } from './plan';
import { PURPOSE, seeded } from './random';
import { CUSTOMER_HEADER, PRODUCT_HEADER, World, customerRow, productRow } from './world';

export { MAX_ORDERS, SCALES, isScaleName, planGeneration } from './plan';
export type { GenerationPlan, Injection, InjectionCounts, ScaleName } from './plan';

export const DEFAULT_SEED = 42;
export const MAX_DAYS = 366;

export interface GenerateOptions {
  lakeDir: string;
  startDate: string;
  days?: number;
  scale?: ScaleName;
  /** Orders over the whole period instead of the scale's (for example 10,000,000 in one day). */
  orders?: number;
  dirty?: boolean;
  seed?: number;
  /** What to do when a partition of a generated date already holds files. Default: refuse. */
  existing?: 'refuse' | 'overwrite' | 'skip';
  /** Called as rows are written, with the running count and the total of the whole generation. */
  onProgress?: (written: number, total: number) => void;
}

export interface GeneratedFile {
  entity: Entity;
  date: string;
  path: string;
  rows: number;
  bytes: number;
}

export interface GenerateResult {
  plan: GenerationPlan;
  files: GeneratedFile[];
  /** Dates left alone because their partitions already held files (existing: 'skip'). */
  skippedDates: string[];
  /** Other files found in overwritten partitions: the pipeline will read them too. */
  warnings: string[];
}

/** A partition already holds files and the caller did not allow overwriting it. */
export class PartitionExistsError extends Error {
  constructor(readonly partitions: ExistingPartition[]) {
    const list = partitions.map((p) => `${p.dir} (${p.files.join(', ')})`).join('; ');
    super(`${partitions.length} partition(s) already hold files: ${list}`);
    this.name = 'PartitionExistsError';
  }
}

function checkOptions(o: GenerateOptions): void {
  if (!isIsoDate(o.startDate)) throw new RangeError(`start date must be a calendar date written YYYY-MM-DD, got "${o.startDate}"`);
  const days = o.days ?? 1;
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS)
    throw new RangeError(`days must be a whole number from 1 to ${MAX_DAYS}, got ${days}`);
  if (o.orders !== undefined && (!Number.isInteger(o.orders) || o.orders < 1 || o.orders > MAX_ORDERS))
    throw new RangeError(`orders must be a whole number from 1 to ${MAX_ORDERS.toLocaleString('en-US')}, got ${o.orders}`);
  const seed = o.seed ?? DEFAULT_SEED;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a whole number >= 0, got ${seed}`);
}

export async function generateLake(options: GenerateOptions): Promise<GenerateResult> {
  checkOptions(options);
  const seed = options.seed ?? DEFAULT_SEED;
  const scale = options.scale ?? 'small';
  const plan = planGeneration({
    startDate: options.startDate,
    days: options.days ?? 1,
    scale,
    dirty: options.dirty ?? false,
    orders: options.orders,
  });
  const lakeDir = path.resolve(options.lakeDir);

  const existing = await existingPartitions(lakeDir, plan.dates);
  const mode = options.existing ?? 'refuse';
  if (existing.length > 0 && mode === 'refuse') throw new PartitionExistsError(existing);
  const skip = new Set(mode === 'skip' ? existing.map((p) => p.date) : []);
  const warnings = existing
    .filter((p) => mode === 'overwrite' && p.files.some((f) => f !== `${p.entity}.csv`))
    .map((p) => `${p.dir} also holds ${p.files.filter((f) => f !== `${p.entity}.csv`).join(', ')}; the pipeline reads those files too`);

  const total = plan.days.filter((d) => !skip.has(d.date)).reduce((sum, d) => sum + ENTITIES.reduce((s, e) => s + fileRows(d, e), 0), 0);
  let written = 0;
  const progress = (n: number) => {
    written += n;
    options.onProgress?.(written, total);
  };

  const spec = SCALES[scale];
  const world = new World(seed, spec.customers, spec.products, options.startDate);
  const tmp = scratchDir(lakeDir);
  const files: GeneratedFile[] = [];
  try {
    for (const day of plan.days) {
      world.advanceTo(day);
      if (skip.has(day.date)) continue;
      for (const entity of ENTITIES) {
        const target = generatedFile(lakeDir, entity, day.date);
        const result = await writeCsvFile(target, tmp, headerOf(entity), rowsOf(entity, day, world, seed), progress);
        files.push({ entity, date: day.date, path: target, ...result });
      }
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
    // Left in place while another generation still uses it.
    await rmdir(path.dirname(tmp)).catch(() => undefined);
  }
  return { plan, files, skippedDates: [...skip], warnings };
}

function headerOf(entity: Entity): string[] {
  return entity === 'customers' ? CUSTOMER_HEADER : entity === 'products' ? PRODUCT_HEADER : ORDER_HEADER;
}

function rowsOf(entity: Entity, day: DayPlan, world: World, seed: number): Iterable<string[]> {
  if (entity === 'orders') return orderRows(day, world, seed);
  if (entity === 'customers') {
    const rows = world.visibleCustomers().map(customerRow);
    const { rng, faker } = seeded(seed, PURPOSE.dirtyCustomers, dayNumber(day.date));
    return dirtyCustomers(rows, day.injections.customers, rng, faker);
  }
  const rows = world.visibleProducts().map(productRow);
  const { rng, faker } = seeded(seed, PURPOSE.dirtyProducts, dayNumber(day.date));
  return dirtyProducts(rows, day.injections.products, rng, faker);
}
