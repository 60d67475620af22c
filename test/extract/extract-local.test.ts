/**
 * The extract activity on the local backend against a real PostgreSQL (Debian's, a throwaway
 * cluster): each entity's rows become one gzip CSV in its raw partition that the catalog reads, a
 * rerun replaces it whole, nothing half-written is ever in a partition, and failures are classified
 * (bad SQL fails at once with one line, an unreachable server is retried).
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExtractConfig } from '../../src/config';
import type { ExtractEntityResult } from '../../src/activities/types';
import { ENTITIES } from '../../src/shared/contract';
import { freePort } from '../support/moto';
import type { LocalTestBackend } from '../local/support';
import { localConfig, open, runRef, settle, tempDir } from '../local/support';
import type { ShopDatabase } from './support';
import { DAY, EXPECTED, extractConfigFor, OTHER_DAY, startShopDatabase } from './support';

let shop: ShopDatabase;
let root: string;
let lakeDir: string;
let config: ExtractConfig;
let a: LocalTestBackend;

beforeAll(async () => {
  shop = await startShopDatabase();
  root = tempDir('extract-local');
  const local = localConfig(root);
  lakeDir = local.lakeDir;
  config = extractConfigFor(shop.url, root);
  a = open(local, { extract: config });
}, 120_000);

afterAll(async () => {
  await a?.close();
  await shop?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const partition = (entity: string, date = DAY) => path.join(lakeDir, 'raw', entity, date);
const gunzipText = (file: string) => zlib.gunzipSync(fs.readFileSync(file)).toString('utf8');

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('extract on the local backend', () => {
  it('writes each entity as one gzip CSV in its raw partition, with the rows and bytes it wrote', async () => {
    const results: ExtractEntityResult[] = [];
    for (const entity of ENTITIES) results.push(await a.extractEntity({ run: runRef(DAY, 'extract'), entity }));
    for (const r of results) {
      if (!r.extracted) throw new Error(`${r.entity} not extracted: ${r.reason}`);
      const file = path.join(lakeDir, r.key);
      expect(r.key).toBe(`raw/${r.entity}/${DAY}/extract-${r.entity}.csv.gz`);
      expect(gunzipText(file)).toBe(EXPECTED[r.entity]);
      expect(r.bytes).toBe(fs.statSync(file).size);
      expect(r.rows).toBe(EXPECTED[r.entity].trim().split('\n').length - 1);
      expect(r.columns).toEqual(EXPECTED[r.entity].split('\n')[0]!.split(','));
    }
    expect(results.map((r) => r.extracted && r.source)).toEqual(['table shop.customers', 'table shop.products', 'query']);
    // Only the day's orders: the query's $1 is the run date.
    expect(gunzipText(path.join(partition('orders'), 'extract-orders.csv.gz'))).not.toContain(OTHER_DAY);
    // Nothing left in the scratch folder, and it is no entity's partition.
    expect(fs.readdirSync(path.join(lakeDir, 'raw', '.extract-tmp'))).toEqual([]);
  });

  it('writes what the sensor lists and the catalog reads, row for row', async () => {
    for (const entity of ENTITIES) {
      const listing = a.engine.lake.listing(entity, DAY);
      expect(listing.objects.map((o) => o.key)).toEqual([`raw/${entity}/${DAY}/extract-${entity}.csv.gz`]);
      expect(listing.ignored).toEqual([]);
    }
    const run = runRef(DAY, 'catalog');
    const { crawlId } = await a.startCrawl({ run });
    const crawl = await settle(() => a.getCrawlState({ run, crawlId }));
    expect(crawl.state, crawl.message).toBe('SUCCEEDED');
    expect(crawl.metrics).toMatchObject({ 'customers.rows': 3, 'products.rows': 2, 'orders.rows': 3 });
    expect(crawl.unread ?? []).toEqual([]);
  });

  it('replaces the date’s extract on a rerun (fewer rows: the old ones are gone) and leaves other files alone', async () => {
    fs.writeFileSync(path.join(partition('orders'), 'late-orders.csv'), 'order_id\n999\n');
    await shop.db.query('DELETE FROM shop.orders WHERE order_id = 101');
    try {
      const r = await a.extractEntity({ run: runRef(DAY, 'extract', 2), entity: 'orders' });
      expect(r).toMatchObject({ extracted: true, rows: 2 });
      const text = gunzipText(path.join(partition('orders'), 'extract-orders.csv.gz'));
      expect(text).toBe(EXPECTED.orders.replace(/^101,.*\n/m, ''));
      expect(fs.readdirSync(partition('orders')).sort()).toEqual(['extract-orders.csv.gz', 'late-orders.csv']);
    } finally {
      await shop.db.query(`INSERT INTO shop.orders VALUES (101, 2, 11, '${DAY}', 7.98, 2, NULL)`);
      fs.rmSync(path.join(partition('orders'), 'late-orders.csv'));
    }
  });

  it('never shows a partial file in the partition while it streams a large result', async () => {
    const big = extractConfigFor(shop.url, tempDir('extract-big'), {
      orders: {
        query: `SELECT g AS order_id, 1 AS customer_id, 10 AS product_id, $1::date AS order_date, 9.99 AS order_amount, 1 AS quantity,
                NULL::date AS delivery_date FROM generate_series(1, 300000) AS g`,
      },
    });
    const b = open(localConfig(tempDir('extract-big-lake')), { extract: big });
    const lake = b.engine.lake;
    const seen = new Set<string>();
    let scratchSeen = false;
    const watcher = setInterval(() => {
      for (const n of safeList(lake.partitionDir('orders', DAY))) seen.add(n);
      if (safeList(path.join(lake.root, 'raw', '.extract-tmp')).length > 0) scratchSeen = true;
    }, 2);
    try {
      // A previous extract in place: the partition must show it, whole, until the new one replaces it.
      const first = await b.extractEntity({ run: runRef(DAY, 'extract'), entity: 'orders' });
      const second = await b.extractEntity({ run: runRef(DAY, 'extract', 2), entity: 'orders' });
      expect(first).toMatchObject({ extracted: true, rows: 300_000 });
      expect(second).toMatchObject({ extracted: true, rows: 300_000 });
    } finally {
      clearInterval(watcher);
      await b.close();
    }
    expect([...seen]).toEqual(['extract-orders.csv.gz']);
    expect(scratchSeen).toBe(true);
    const lines = gunzipText(path.join(lake.partitionDir('orders', DAY), 'extract-orders.csv.gz'))
      .trimEnd()
      .split('\n');
    expect(lines).toHaveLength(300_001);
    expect(lines[300_000]).toBe(`300000,1,10,${DAY},9.99,1,`);
  }, 120_000);

  it('fails at once, in one line naming the entity and its table, when the table does not exist', async () => {
    const typo = open(localConfig(tempDir('extract-typo')), {
      extract: extractConfigFor(shop.url, tempDir('extract-typo-cfg'), { customers: { table: 'public.custmers' } }),
    });
    try {
      const f = await failureOf(typo.extractEntity({ run: runRef(DAY, 'extract'), entity: 'customers' }));
      expect(f.message).toBe('extract customers: relation "public.custmers" does not exist (table public.custmers)');
      expect(f.nonRetryable).toBe(true);
      expect(f.type).toBe('MissingResource');
      expect(fs.existsSync(typo.engine.lake.partitionDir('customers', DAY))).toBe(false);
      expect(fs.readdirSync(path.join(typo.engine.lake.root, 'raw', '.extract-tmp'))).toEqual([]);
    } finally {
      await typo.close();
    }
  });

  it('fails at once on bad SQL (an unknown column, a syntax error), naming the entity', async () => {
    const bad = open(localConfig(tempDir('extract-badsql')), {
      extract: extractConfigFor(shop.url, tempDir('extract-badsql-cfg'), {
        products: { query: 'SELECT product_id, colour FROM shop.products' },
        orders: { query: 'SELEC * FROM shop.orders WHERE order_date = $1' },
      }),
    });
    try {
      const column = await failureOf(bad.extractEntity({ run: runRef(DAY, 'extract'), entity: 'products' }));
      expect(column.message).toBe('extract products: column "colour" does not exist (query)');
      expect(column.nonRetryable).toBe(true);
      const syntax = await failureOf(bad.extractEntity({ run: runRef(DAY, 'extract'), entity: 'orders' }));
      expect(syntax.message).toMatch(/^extract orders: syntax error at or near "SELEC" \(query\)$/);
      expect(syntax.nonRetryable).toBe(true);
    } finally {
      await bad.close();
    }
  });

  it('is retried when the server cannot be reached, and never shows the password', async () => {
    const port = await freePort();
    const url = `postgres://shop:s3cret-pass@127.0.0.1:${port}/shop`;
    const away = open(localConfig(tempDir('extract-away')), { extract: extractConfigFor(url, tempDir('extract-away-cfg')) });
    try {
      const f = await failureOf(away.extractEntity({ run: runRef(DAY, 'extract'), entity: 'customers' }));
      expect(f.nonRetryable).toBe(false);
      expect(f.type).toBe('ExtractSourceUnavailable');
      expect(f.message).toMatch(/^extract customers: the source database is unreachable: .*ECONNREFUSED.* \(table shop\.customers\)$/);
      expect(JSON.stringify(f)).not.toContain('s3cret-pass');
    } finally {
      await away.close();
    }
  });

  it('says so for an entity without a source, and fails in one line on a worker without extract settings', async () => {
    const some = open(localConfig(tempDir('extract-some')), {
      extract: extractConfigFor(shop.url, tempDir('extract-some-cfg'), { customers: { table: 'shop.customers' } }),
    });
    const none = open(localConfig(tempDir('extract-none')));
    try {
      const r = await some.extractEntity({ run: runRef(DAY, 'extract'), entity: 'orders' });
      expect(r).toEqual({
        entity: 'orders',
        extracted: false,
        reason: expect.stringMatching(/^no table or query for orders in .*extract\.json$/),
      });
      const f = await failureOf(none.extractEntity({ run: runRef(DAY, 'extract'), entity: 'orders' }));
      expect(f.nonRetryable).toBe(true);
      expect(f.message).toMatch(/^extract is on for this run, but this worker has no PIPELINE_EXTRACT_DATABASE_URL/);
    } finally {
      await some.close();
      await none.close();
    }
  });
});

function safeList(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
