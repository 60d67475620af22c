/**
 * The benchmark's peers must do the engine's work, or their timings compare nothing. The Polars
 * baseline (bench/polars_baseline.py) runs on the golden set's raw files (CSV, gzip, a workbook) and
 * both baselines run on generated dirty days, with and without the optional delivery_date column;
 * each must write the silver, gold and rejects the local engine writes from the same files, row for
 * row (decimals with 2 places, dates ISO, raw records as JSON), and report the engine's counts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLake } from '../../src/generate';
import { copyRaw, GOLDEN, GOLDEN_DATE, localConfig, open, runDay, tempDir, writeRaw } from '../local/support';
import type { BaselineResult, Table } from './support';
import { BATCH_TABLES, batchGlob, readTable, runBaseline, tableDifferences } from './support';

const ENTITIES = ['customers', 'products', 'orders'] as const;
const roots: string[] = [];
afterAll(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));

interface Day {
  lakeDir: string;
  metrics: Record<string, number>;
}

/** The engine's whole day on a lake whose raw files are already in place. */
async function engineDay(root: string, fill: (lakeDir: string) => Promise<void> | void, date: string): Promise<Day> {
  const config = localConfig(root);
  await fill(config.lakeDir);
  const a = open(config);
  try {
    const day = await runDay(a, date);
    return { lakeDir: config.lakeDir, metrics: day.etl.metrics ?? {} };
  } finally {
    await a.close();
  }
}

/** Every table the peer wrote against the engine's; empty when the peer wrote the same batch. */
async function differences(engineLake: string, peerOut: string, date: string, options: { types?: boolean } = {}): Promise<string[]> {
  const out: string[] = [];
  for (const table of BATCH_TABLES) {
    const [engine, peer] = [await readTable(batchGlob(engineLake, table, date)), await readTable(batchGlob(peerOut, table, date))];
    expect(engine.rows.length, `the engine wrote rows to ${table}`).toBeGreaterThan(0);
    out.push(...tableDifferences(table, engine, peer, options));
  }
  return out;
}

function countsOf(metrics: Record<string, number>): Record<string, Record<string, number>> {
  const counts: Record<string, Record<string, number>> = {};
  for (const e of ENTITIES) {
    counts[e] = Object.fromEntries(['read', 'loaded', 'rejected', 'duplicates'].map((k) => [k, metrics[`${e}.${k}`]]));
  }
  counts.orders.revenue = metrics['orders.revenue'];
  return counts;
}

describe('the comparison', () => {
  const table = (rows: unknown[][], columns = ['id', 'amount']): Table => ({
    columns,
    types: columns.map(() => 'VARCHAR'),
    rows: rows.map((r) => JSON.stringify(r)).sort(),
  });

  it('finds nothing between equal tables, and names what differs between two that are not', () => {
    const engine = table([
      ['1', '39.99'],
      ['2', '5.00'],
    ]);
    expect(
      tableDifferences(
        't',
        engine,
        table([
          ['2', '5.00'],
          ['1', '39.99'],
        ]),
      ),
    ).toEqual([]);
    const off = tableDifferences(
      't',
      engine,
      table([
        ['1', '39.99'],
        ['2', '5.01'],
      ]),
    );
    expect(off).toEqual([`t: 1 row(s) only the engine wrote: ["2","5.00"]`, `t: 1 row(s) only the peer wrote: ["2","5.01"]`]);
  });

  it('counts copies of a row, and compares columns', () => {
    const engine = table([['1', '5.00']]);
    expect(
      tableDifferences(
        't',
        engine,
        table([
          ['1', '5.00'],
          ['1', '5.00'],
        ]),
      ),
    ).toEqual([`t: 1 row(s) only the peer wrote: ["1","5.00"]`]);
    expect(tableDifferences('t', engine, table([['1', '5.00']], ['id', 'price']))[0]).toMatch(
      /columns \[id,price\] where the engine has \[id,amount\]/,
    );
  });
});

describe('bench/polars_baseline.py on the golden set', () => {
  let engine: Day;
  let out: string;
  let polars: BaselineResult;

  beforeAll(async () => {
    const root = tempDir('baselines-golden');
    roots.push(root);
    engine = await engineDay(root, (lakeDir) => copyRaw(GOLDEN, lakeDir), GOLDEN_DATE);
    out = path.join(root, 'polars');
    polars = await runBaseline('polars_baseline.py', engine.lakeDir, GOLDEN_DATE, out);
  });

  it('reports the counts and revenue the engine reports', () => {
    expect(polars.counts).toEqual(countsOf(engine.metrics));
  });

  it('writes the silver, gold and rejects the engine writes, row for row and type for type', async () => {
    expect(await differences(engine.lakeDir, out, GOLDEN_DATE, { types: true })).toEqual([]);
  });
});

/**
 * The golden customers and orders with products as CSV (pandas reads no workbooks) and one more orders
 * file without delivery_date: keys past 2^53 beside a bad key in the same column (a float parse
 * makes 9007199254740992 and ...993 one key), the 64-bit and 32-bit edges, half-up rounding of
 * thousandths, signs and bare points, leap days, blank lines (not rows, so not numbered).
 */
const EDGE_PRODUCTS = `product_id,product_name,category,price,note
10,Widget,Tools,19.995,
11,Gadget,Tools,abc,
12,Broken,Misc,-1,
,No Id,Misc,5,
13,Cheap,Misc,6.005,
14,Dup v1,Misc,6,
14,Dup v2,Misc,2.675,
15,Free,Misc,0,
16,Ball,Toys,"",

9007199254740993,Big A,Misc,1.00,
9007199254740992,Big B,Misc,2.00,
9223372036854775807,Max,Misc,3,
9223372036854775808,Over,Misc,3,
17,Huge,Misc,100000000,
18,Padded, Misc ,  7.5 ,x
`;
const EDGE_ORDERS = `order_id,customer_id,product_id,order_date,order_amount,quantity
200,1,9007199254740993,2025-10-27,1.00,1
201,1,9007199254740992,2025-10-27,2.00,2147483647
202,1,10,2025-10-27,1.00,2147483648
203,1,9223372036854775807,2025-10-27,0.125,1
204,1,10,2025-10-27,-0.005,1
9223372036854775807,1,10,2025-10-27,5,1
9223372036854775808,1,10,2025-10-27,5,1
205,1,10,2024-02-29,5,1

206,1,10,2023-02-29,5,1
207,1,18,2025-10-27,+5.5,+3
208,1,10,2025-10-27,.5,1
209,1,10,2025-10-27,5.,1
`;

describe('both baselines on the golden CSV files and hand-written edge cases', () => {
  let engine: Day;
  let root: string;
  const results: Record<string, BaselineResult> = {};

  beforeAll(async () => {
    root = tempDir('baselines-edges');
    roots.push(root);
    engine = await engineDay(
      root,
      (lakeDir) => {
        copyRaw(GOLDEN, lakeDir);
        fs.rmSync(path.join(lakeDir, 'raw', 'products', GOLDEN_DATE), { recursive: true });
        writeRaw(lakeDir, 'products', GOLDEN_DATE, 'products.csv', EDGE_PRODUCTS);
        writeRaw(lakeDir, 'orders', GOLDEN_DATE, 'orders_3.csv', EDGE_ORDERS);
      },
      GOLDEN_DATE,
    );
    for (const script of ['pandas_baseline.py', 'polars_baseline.py'])
      results[script] = await runBaseline(script, engine.lakeDir, GOLDEN_DATE, path.join(root, script));
  });

  it.each(['pandas_baseline.py', 'polars_baseline.py'])('%s reports the counts and revenue the engine reports', (script) => {
    expect(results[script].counts).toEqual(countsOf(engine.metrics));
  });

  it.each(['pandas_baseline.py', 'polars_baseline.py'])('%s writes the silver, gold and rejects the engine writes', async (script) => {
    expect(await differences(engine.lakeDir, path.join(root, script), GOLDEN_DATE, { types: true })).toEqual([]);
  });
});

/** The generated orders file without its delivery_date column (the generator never quotes an order field). */
function dropDeliveryDate(lakeDir: string, date: string): void {
  const file = path.join(lakeDir, 'raw', 'orders', date, 'orders.csv');
  const text = fs.readFileSync(file, 'utf8');
  expect(text).not.toContain('"');
  const lines = text.split('\n');
  const at = lines[0].split(',').indexOf('delivery_date');
  expect(at).toBeGreaterThan(0);
  const cut = lines.map((l) =>
    l === ''
      ? l
      : l
          .split(',')
          .filter((_, i) => i !== at)
          .join(','),
  );
  fs.writeFileSync(file, cut.join('\n'));
}

describe.each([
  ['with delivery_date', false],
  ['without delivery_date', true],
])('both baselines on a generated dirty day %s', (_, withoutDelivery) => {
  const date = '2025-11-03';
  let root: string;
  let engine: Day;
  const results: Record<string, BaselineResult> = {};

  beforeAll(async () => {
    root = tempDir('baselines-generated');
    roots.push(root);
    engine = await engineDay(
      root,
      async (lakeDir) => {
        await generateLake({ lakeDir, startDate: date, scale: 'small', dirty: true, seed: 5 });
        if (withoutDelivery) dropDeliveryDate(lakeDir, date);
      },
      date,
    );
    for (const script of ['pandas_baseline.py', 'polars_baseline.py'])
      results[script] = await runBaseline(script, engine.lakeDir, date, path.join(root, script));
  });

  it.each(['pandas_baseline.py', 'polars_baseline.py'])('%s reports the counts and revenue the engine reports', (script) => {
    expect(results[script].counts).toEqual(countsOf(engine.metrics));
    // A dirty day rejects and collapses rows in every entity, so the check above compared something.
    for (const e of ENTITIES) expect(engine.metrics[`${e}.rejected`] + engine.metrics[`${e}.duplicates`], e).toBeGreaterThan(0);
  });

  it.each(['pandas_baseline.py', 'polars_baseline.py'])('%s writes the silver, gold and rejects the engine writes', async (script) => {
    expect(await differences(engine.lakeDir, path.join(root, script), date)).toEqual([]);
  });
});
