import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { PartitionExistsError, generateLake, planGeneration } from '../../src/generate';

const dirs: string[] = [];
async function tempLake(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gen-test-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function filesOf(root: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out.set(path.relative(root, full), await readFile(full));
  }
  return out;
}

type Row = Record<string, string>;
async function readCsv(file: string): Promise<Row[]> {
  return parse(await readFile(file), { columns: true }) as Row[];
}

describe('generateLake', () => {
  it('gives byte-identical files for the same seed and different files for another seed', async () => {
    const [a, b, c] = [await tempLake(), await tempLake(), await tempLake()];
    const opts = { startDate: '2025-10-25', days: 3, dirty: true, seed: 7 };
    await generateLake({ ...opts, lakeDir: a });
    await generateLake({ ...opts, lakeDir: b });
    await generateLake({ ...opts, lakeDir: c, seed: 8 });
    const [fa, fb, fc] = [await filesOf(a), await filesOf(b), await filesOf(c)];
    expect([...fa.keys()].sort()).toEqual(
      ['customers', 'products', 'orders']
        .flatMap((e) => ['2025-10-25', '2025-10-26', '2025-10-27'].map((d) => path.join('raw', e, d, `${e}.csv`)))
        .sort(),
    );
    for (const [name, bytes] of fa) expect(bytes.equals(fb.get(name)!), name).toBe(true);
    expect(
      fa
        .get(path.join('raw', 'orders', '2025-10-27', 'orders.csv'))!
        .equals(fc.get(path.join('raw', 'orders', '2025-10-27', 'orders.csv'))!),
    ).toBe(false);
  });

  it('writes the contract layout with consistent, realistic clean rows', async () => {
    const lake = await tempLake();
    const result = await generateLake({ lakeDir: lake, startDate: '2025-10-27' });
    expect(result.files.map((f) => f.rows)).toEqual([200, 50, 1000]);
    const customers = await readCsv(path.join(lake, 'raw/customers/2025-10-27/customers.csv'));
    const products = await readCsv(path.join(lake, 'raw/products/2025-10-27/products.csv'));
    const orders = await readCsv(path.join(lake, 'raw/orders/2025-10-27/orders.csv'));
    expect(Object.keys(customers[0])).toEqual(['customer_id', 'first_name', 'last_name', 'email', 'join_date', 'city', 'state']);
    expect(Object.keys(orders[0])).toEqual([
      'order_id',
      'customer_id',
      'product_id',
      'order_date',
      'order_amount',
      'quantity',
      'delivery_date',
    ]);
    for (const c of customers) {
      expect(c.email).toMatch(/^[^@\s]+@[^@\s]+\.[a-z]+$/i);
      expect(c.state).toMatch(/^[A-Z]{2}$/);
      expect(c.join_date < '2025-10-27').toBe(true);
    }
    // Product names with a comma or quote survive the round trip through CSV quoting.
    expect(products.some((p) => p.product_name.includes(','))).toBe(true);
    const price = new Map(products.map((p) => [p.product_id, Math.round(Number(p.price) * 100)]));
    const customerIds = new Set(customers.map((c) => c.customer_id));
    expect(new Set(orders.map((o) => o.order_id)).size).toBe(orders.length);
    for (const o of orders) {
      expect(o.order_id.startsWith('20251027')).toBe(true);
      expect(customerIds.has(o.customer_id)).toBe(true);
      expect(Math.round(Number(o.order_amount) * 100)).toBe(price.get(o.product_id)! * Number(o.quantity));
      expect(['2025-10-25', '2025-10-26', '2025-10-27']).toContain(o.order_date);
      if (o.delivery_date) expect(o.delivery_date > o.order_date).toBe(true);
    }
    expect(orders.filter((o) => o.order_date === '2025-10-27').length).toBeGreaterThan(900);
  });

  it('evolves the dimensions from day to day', async () => {
    const lake = await tempLake();
    await generateLake({ lakeDir: lake, startDate: '2025-10-26', days: 2 });
    const day1 = await readCsv(path.join(lake, 'raw/customers/2025-10-26/customers.csv'));
    const day2 = await readCsv(path.join(lake, 'raw/customers/2025-10-27/customers.csv'));
    expect(day2.length).toBe(day1.length + 1);
    expect(day2.at(-1)!.join_date).toBe('2025-10-27');
    const before = new Map(day1.map((c) => [c.customer_id, JSON.stringify(c)]));
    const changed = day2.filter((c) => before.has(c.customer_id) && before.get(c.customer_id) !== JSON.stringify(c));
    expect(changed.length).toBeGreaterThanOrEqual(1);
    const p1 = await readCsv(path.join(lake, 'raw/products/2025-10-26/products.csv'));
    const p2 = await readCsv(path.join(lake, 'raw/products/2025-10-27/products.csv'));
    const oldPrice = new Map(p1.map((p) => [p.product_id, p.price]));
    expect(p2.filter((p) => oldPrice.has(p.product_id) && oldPrice.get(p.product_id) !== p.price).length).toBeGreaterThanOrEqual(1);
  });

  it('refuses to overwrite a partition unless told to, and names it', async () => {
    const lake = await tempLake();
    const mine = path.join(lake, 'raw/orders/2025-10-27');
    await mkdir(mine, { recursive: true });
    await writeFile(path.join(mine, 'orders.csv'), 'order_id\n1\n');
    const err = await generateLake({ lakeDir: lake, startDate: '2025-10-27' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartitionExistsError);
    expect((err as Error).message).toContain(mine);
    expect(await readFile(path.join(mine, 'orders.csv'), 'utf8')).toBe('order_id\n1\n');
    // Nothing at all was written: the check runs before the first file.
    await expect(readdir(path.join(lake, 'raw/customers'))).rejects.toThrow(/ENOENT/);
    await generateLake({ lakeDir: lake, startDate: '2025-10-27', existing: 'overwrite' });
    expect((await readFile(path.join(mine, 'orders.csv'), 'utf8')).split('\n').length).toBe(1002);
    expect(await readdir(lake)).toEqual(['raw']); // scratch space removed
  });

  it('can skip dates that are already there and still write the others identically', async () => {
    const [lake, reference] = [await tempLake(), await tempLake()];
    await generateLake({ lakeDir: reference, startDate: '2025-10-26', days: 2 });
    const mine = path.join(lake, 'raw/customers/2025-10-26');
    await mkdir(mine, { recursive: true });
    await writeFile(path.join(mine, 'mine.csv'), 'customer_id\n1\n');
    const result = await generateLake({ lakeDir: lake, startDate: '2025-10-26', days: 2, existing: 'skip' });
    expect(result.skippedDates).toEqual(['2025-10-26']);
    expect(result.files.map((f) => f.date)).toEqual(['2025-10-27', '2025-10-27', '2025-10-27']);
    expect(await readdir(mine)).toEqual(['mine.csv']);
    const file = 'raw/orders/2025-10-27/orders.csv';
    expect((await readFile(path.join(lake, file))).equals(await readFile(path.join(reference, file)))).toBe(true);
  });

  it('rejects bad options with a message naming the option', async () => {
    const lake = await tempLake();
    await expect(generateLake({ lakeDir: lake, startDate: '2025-02-30' })).rejects.toThrow(/start date .*2025-02-30/);
    await expect(generateLake({ lakeDir: lake, startDate: '2025-10-27', days: 0 })).rejects.toThrow(/days must be/);
  });
});

describe('seed001 scale', () => {
  it('plans 7,500 customers, 600 products and 1,020,500 orders however the period is split', () => {
    for (const days of [1, 7, 30]) {
      const plan = planGeneration({ startDate: '2025-10-01', days, scale: 'seed001', dirty: false });
      expect(plan.days.reduce((s, d) => s + d.orders, 0)).toBe(1_020_500);
      expect(plan.days.at(-1)!.customers).toBe(7_500);
      expect(plan.days.at(-1)!.products).toBe(600);
      expect(Math.max(...plan.days.map((d) => d.orders)) - Math.min(...plan.days.map((d) => d.orders))).toBeLessThanOrEqual(1);
      expect(plan.days[0].customers).toBeGreaterThanOrEqual(6_000);
    }
  });

  it('writes all 1,020,500 orders of a one-day period', async () => {
    const lake = await tempLake();
    const result = await generateLake({ lakeDir: lake, startDate: '2025-10-27', scale: 'seed001' });
    expect(result.files.map((f) => [f.entity, f.rows])).toEqual([
      ['customers', 7_500],
      ['products', 600],
      ['orders', 1_020_500],
    ]);
    let lines = 0;
    const reader = createInterface({ input: createReadStream(path.join(lake, 'raw/orders/2025-10-27/orders.csv')) });
    reader.on('line', () => lines++);
    await once(reader, 'close');
    expect(lines).toBe(1_020_501);
  });
});
