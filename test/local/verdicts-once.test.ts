/**
 * Each row's verdict is computed once: validate writes the batch's verdicts and the transform reads
 * them while their inputs are unchanged, and computes them afresh when the bronze, an earlier batch's
 * dimensions or nothing at all (a transform without its validate) is on record, each part only as far
 * as its own inputs changed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_QUALITY_THRESHOLDS } from '../../src/shared/quality';
import type { LocalTestBackend } from './support';
import { copyRaw, GOLDEN, GOLDEN_DATE, localConfig, open, runDay, runRef, settle, tempDir, writeRaw } from './support';

const D0 = '2025-10-26';
const roots: string[] = [];
const backends: LocalTestBackend[] = [];

function lake(options: Parameters<typeof open>[1] = {}): { a: LocalTestBackend; lakeDir: string } {
  const root = tempDir('verdicts-once');
  roots.push(root);
  const config = localConfig(root);
  copyRaw(GOLDEN, config.lakeDir);
  const a = open(config, options);
  backends.push(a);
  return { a, lakeDir: config.lakeDir };
}

afterEach(async () => {
  for (const a of backends.splice(0)) await a.close();
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

// Each call is a new attempt: the same attempt of a stage is answered with the work it already did.
let attempt = 0;

async function catalog(a: LocalTestBackend, date: string): Promise<void> {
  const run = runRef(date, 'catalog', ++attempt);
  const c = await a.startCrawl({ run });
  expect((await settle(() => a.getCrawlState({ run, crawlId: c.crawlId }))).state).toBe('SUCCEEDED');
}

async function validate(a: LocalTestBackend, date: string): Promise<void> {
  const run = runRef(date, 'validate', ++attempt);
  const q = await a.startQuery({ run, query: 'quality_checks', thresholds: DEFAULT_QUALITY_THRESHOLDS });
  expect((await settle(() => a.getQueryState({ run, queryId: q.queryId }))).state).toBe('SUCCEEDED');
}

async function transform(a: LocalTestBackend, date: string): Promise<Record<string, number>> {
  const run = runRef(date, 'transform', ++attempt);
  const e = await a.startEtlRun({ run });
  const st = await settle(() => a.getEtlRunState({ run, etlRunId: e.etlRunId }));
  expect(st.state).toBe('SUCCEEDED');
  return st.metrics ?? {};
}

/** A smaller first day whose dimensions the golden day's orders may refer to. */
function writeEarlierDay(lakeDir: string, customers: string): void {
  writeRaw(lakeDir, 'customers', D0, 'customers.csv', `customer_id,first_name,last_name,email,join_date,city,state\n${customers}`);
  writeRaw(lakeDir, 'products', D0, 'products.csv', 'product_id,product_name,category,price\n1,Mug,Kitchen,4.50\n');
  writeRaw(
    lakeDir,
    'orders',
    D0,
    'orders.csv',
    'order_id,customer_id,product_id,order_date,order_amount,quantity\n1,1,1,2025-10-26,4.50,1\n',
  );
}

/** The golden day's rows of a table the transform wrote, in a fixed order. */
function written(x: { a: LocalTestBackend; lakeDir: string }, layer: string, table: string) {
  return x.a.engine.query(
    `SELECT * FROM read_parquet('${path.join(x.lakeDir, 'processed', layer, table, `batch_date=${GOLDEN_DATE}`)}/*.parquet') ORDER BY ALL`,
  );
}

describe('per-row verdicts', () => {
  it('are computed by validate and read by the transform, which then writes what it computes alone', async () => {
    const once = lake();
    const day = await runDay(once.a, GOLDEN_DATE);
    expect(day.etl.metrics?.verdictsReused).toBe(1);

    // The same batch with no validate before its transform: the verdicts are computed there.
    const alone = lake();
    await catalog(alone.a, GOLDEN_DATE);
    const aloneMetrics = await transform(alone.a, GOLDEN_DATE);
    expect(aloneMetrics.verdictsReused).toBe(0);
    // Each entity's verdicts and the orders' own checks, kept apart from their references.
    expect(aloneMetrics.verdictsComputed).toBe(4);

    const counts = (m: Record<string, number> = {}) => Object.fromEntries(Object.entries(m).filter(([k]) => k.includes('.')));
    expect(counts(day.etl.metrics)).toEqual(counts(aloneMetrics));
    for (const [layer, table] of [
      ['silver', 'orders'],
      ['silver', 'customers'],
      ['rejects', 'orders'],
      ['gold', 'fact_orders'],
    ]) {
      const rows = (x: { a: LocalTestBackend; lakeDir: string }) => written(x, layer, table);
      const got = await rows(once);
      expect(got.length, `${layer}/${table}`).toBeGreaterThan(0);
      expect(got, `${layer}/${table}`).toEqual(await rows(alone));
    }
  });

  it('are the same for a batch judged as a small one and as a large one (the two renderings of the rules)', async () => {
    const small = lake();
    const large = lake({ largeBatchRows: 0 });
    const days = [await runDay(small.a, GOLDEN_DATE), await runDay(large.a, GOLDEN_DATE)];
    const counts = (m: Record<string, number> = {}) => Object.fromEntries(Object.entries(m).filter(([k]) => k.includes('.')));
    expect(counts(days[1].etl.metrics)).toEqual(counts(days[0].etl.metrics));
    const report = (x: { a: LocalTestBackend }) =>
      x.a.engine.query('SELECT entity, "check", value, passed FROM analytics.quality_reports ORDER BY entity, "check"');
    expect((await report(small)).length).toBeGreaterThan(0);
    expect(await report(large)).toEqual(await report(small));
    for (const [layer, table] of [
      ['silver', 'orders'],
      ['silver', 'customers'],
      ['silver', 'products'],
      ['rejects', 'orders'],
      ['rejects', 'customers'],
      ['gold', 'fact_orders'],
    ]) {
      const rows = (x: { a: LocalTestBackend; lakeDir: string }) => written(x, layer, table);
      const got = await rows(small);
      expect(got.length, `${layer}/${table}`).toBeGreaterThan(0);
      expect(await rows(large), `${layer}/${table}`).toEqual(got);
    }
  });

  it('are computed again when the batch is catalogued again from changed files', async () => {
    const { a, lakeDir } = lake();
    await catalog(a, GOLDEN_DATE);
    await validate(a, GOLDEN_DATE);
    const before = await transform(a, GOLDEN_DATE);
    expect(before.verdictsReused).toBe(1);
    writeRaw(
      lakeDir,
      'orders',
      GOLDEN_DATE,
      'orders_3.csv',
      'order_id,customer_id,product_id,order_date,order_amount,quantity\n900,1,1,2025-10-27,9.99,1\n',
    );
    await catalog(a, GOLDEN_DATE);
    const after = await transform(a, GOLDEN_DATE);
    expect(after.verdictsReused).toBe(0);
    // A new catalog run writes every entity's bronze anew: all of it is judged again.
    expect(after.verdictsComputed).toBe(4);
    expect(after['orders.read']).toBe(before['orders.read'] + 1);
  });

  it('are computed again when an earlier batch of a dimension changed since validate', async () => {
    const { a, lakeDir } = lake();
    writeEarlierDay(lakeDir, '1,Ann,Lee,ann@example.com,2024-01-01,Austin,TX\n');
    await runDay(a, D0);
    await catalog(a, GOLDEN_DATE);
    await validate(a, GOLDEN_DATE);
    // The earlier day is rerun with another customer: the golden day's references are judged anew.
    writeEarlierDay(lakeDir, '1,Ann,Lee,ann@example.com,2024-01-01,Austin,TX\n2,Bo,Kim,bo@example.com,2024-02-01,Reno,NV\n');
    await runDay(a, D0, ++attempt);
    const rejudged = await transform(a, GOLDEN_DATE);
    expect(rejudged.verdictsReused).toBe(0);
    // Only the references are judged again: no row's own checks depend on other batches.
    expect(rejudged.verdictsComputed).toBe(1);
    // Unchanged since, so a second transform reads them.
    expect((await transform(a, GOLDEN_DATE)).verdictsReused).toBe(1);
  });
});
