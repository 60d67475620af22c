/** The catalog stage on real files: listings, header checks, malformed rows, re-cataloguing, raw files untouched. */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalConfig } from '../../src/config';
import type { LocalTestBackend } from './support';
import { localConfig, open, runRef, settle, tempDir, writeRaw } from './support';

const CUSTOMERS = 'customer_id,first_name,last_name,email,join_date,city,state\n';
const PRODUCTS = 'product_id,product_name,category,price\n';
const ORDERS = 'order_id,customer_id,product_id,order_date,order_amount,quantity\n';

function writeGoodDay(lake: string, date: string): void {
  writeRaw(lake, 'customers', date, 'c.csv', `${CUSTOMERS}1,A,B,a@b.c,2025-01-01,X,Y\n`);
  writeRaw(lake, 'products', date, 'p.csv', `${PRODUCTS}1,P,C,1.00\n`);
  writeRaw(lake, 'orders', date, 'o.csv', `${ORDERS}1,1,1,2025-01-01,1.00,1\n2,1,1,2025-01-01,2.00,1\n`);
}

async function rejection(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

function digest(dir: string): string {
  const h = createHash('sha256');
  for (const f of fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())) {
    const p = path.join(f.parentPath, f.name);
    h.update(p).update(fs.readFileSync(p));
  }
  return h.digest('hex');
}

describe('catalog', () => {
  let root: string;
  let config: LocalConfig;
  let a: LocalTestBackend;

  beforeAll(() => {
    root = tempDir('catalog');
    config = localConfig(root);
    a = open(config);
  });

  afterAll(async () => {
    await a?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('lists a partition that has not arrived as empty, and a missing lake as a configuration error', async () => {
    const listing = await a.listRawPartition({ run: runRef('2030-01-01', 'awaitRawData'), entity: 'orders' });
    expect(listing).toEqual({ entity: 'orders', prefix: 'raw/orders/2030-01-01/', objects: [], ignored: [] });
    const other = open({ ...config, lakeDir: path.join(root, 'no-such-lake'), warehousePath: path.join(root, 'other.duckdb') });
    try {
      const err = await rejection(other.listRawPartition({ run: runRef('2030-01-01', 'awaitRawData'), entity: 'orders' }));
      expect(err.type).toBe('BadConfig');
      expect(err.message).toContain('no-such-lake');
    } finally {
      await other.close();
    }
  });

  it('fails at once, naming the file and the missing columns, when a header lacks required columns', async () => {
    const date = '2025-02-01';
    writeGoodDay(config.lakeDir, date);
    writeRaw(config.lakeDir, 'customers', date, 'd.csv', 'Customer_ID,first_name,city\n2,Z,Q\n');
    const err = await rejection(a.startCrawl({ run: runRef(date, 'catalog') }));
    expect(err.type).toBe('InvalidData');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain('raw/customers/2025-02-01/d.csv');
    expect(err.message).toContain('last_name, email, join_date, state');
  });

  it('names the workbook and sheet whose header lacks columns, and skips sheets unrelated to the entity', async () => {
    const date = '2025-02-02';
    writeGoodDay(config.lakeDir, date);
    const book = new ExcelJS.Workbook();
    book.addWorksheet('Notes').addRow(['free text', 'about products']);
    book.addWorksheet('Good').addRows([
      ['product_id', 'product_name', 'category', 'price'],
      [2, 'Q', 'C', 2.5],
    ]);
    book.addWorksheet('Bad').addRows([
      ['product_id', 'product_name'],
      [3, 'R'],
    ]);
    await book.xlsx.writeFile(path.join(config.lakeDir, 'raw/products', date, 'book.xlsx'));
    const err = await rejection(a.startCrawl({ run: runRef(date, 'catalog') }));
    expect(err.type).toBe('InvalidData');
    expect(err.message).toContain('raw/products/2025-02-02/book.xlsx[Bad]');
    expect(err.message).toContain('category, price');

    book.removeWorksheet(book.getWorksheet('Bad')!.id);
    await book.xlsx.writeFile(path.join(config.lakeDir, 'raw/products', date, 'book.xlsx'));
    const run = runRef(date, 'catalog', 2);
    const { crawlId } = await a.startCrawl({ run });
    const st = await settle(() => a.getCrawlState({ run, crawlId }));
    expect(st.state).toBe('SUCCEEDED');
    expect(st.unread).toEqual([
      {
        key: 'raw/products/2025-02-02/book.xlsx[Notes]',
        reason: 'a sheet with no products column in its first 10 rows (first row: free text, about products)',
      },
    ]);
    expect(st.tables?.find((t) => t.entity === 'products')).toMatchObject({ rowCount: 2, files: 2 });
  });

  it('keeps a malformed line in bronze with its row number and text, and reads the rest of the file', async () => {
    const date = '2025-02-03';
    writeGoodDay(config.lakeDir, date);
    writeRaw(
      config.lakeDir,
      'orders',
      date,
      'o.csv',
      `${ORDERS}1,1,1,2025-01-01,1.00,1\n2,1,1,2025-01-01,2.00,1,extra\n3,1,1,2025-01-01,3.00,1\n`,
    );
    const run = runRef(date, 'catalog');
    const { crawlId } = await a.startCrawl({ run });
    const st = await settle(() => a.getCrawlState({ run, crawlId }));
    expect(st.state).toBe('SUCCEEDED');
    const rows = await a.engine.query(
      `SELECT source_row, order_id, malformed_line FROM bronze.orders WHERE batch_date = DATE '${date}' ORDER BY source_row`,
    );
    expect(rows).toEqual([
      { source_row: 2, order_id: '1', malformed_line: null },
      { source_row: 3, order_id: null, malformed_line: '2,1,1,2025-01-01,2.00,1,extra' },
      { source_row: 4, order_id: '3', malformed_line: null },
    ]);
  });

  it('replaces the date on a re-catalogue and never touches raw files', async () => {
    const date = '2025-02-04';
    writeGoodDay(config.lakeDir, date);
    const before = digest(path.join(config.lakeDir, 'raw'));
    const rows = async () => a.engine.query(`SELECT count(*) AS n FROM bronze.orders WHERE batch_date = DATE '${date}'`);
    for (const attempt of [1, 2]) {
      const run = runRef(date, 'catalog', attempt);
      const { crawlId } = await a.startCrawl({ run });
      expect((await settle(() => a.getCrawlState({ run, crawlId }))).state).toBe('SUCCEEDED');
      expect(await rows()).toEqual([{ n: 2 }]);
    }
    writeRaw(config.lakeDir, 'orders', date, 'o2.csv', `${ORDERS}3,1,1,2025-01-01,3.00,1\n`);
    const run = runRef(date, 'catalog', 3);
    const { crawlId } = await a.startCrawl({ run });
    const st = await settle(() => a.getCrawlState({ run, crawlId }));
    expect(st.tables?.find((t) => t.entity === 'orders')).toMatchObject({ rowCount: 3, files: 2 });
    expect(await rows()).toEqual([{ n: 3 }]);
    const catalog = await a.engine.query(`SELECT count(*) AS n FROM bronze.catalog WHERE batch_date = DATE '${date}'`);
    expect(catalog).toEqual([{ n: 3 }]);
    fs.rmSync(path.join(config.lakeDir, 'raw/orders', date, 'o2.csv'));
    expect(digest(path.join(config.lakeDir, 'raw'))).toBe(before);
  });

  it('numbers rows in file order in a file large enough to be read in parallel', async () => {
    const date = '2025-02-05';
    writeGoodDay(config.lakeDir, date);
    const lines = [ORDERS.trim()];
    for (let i = 1; i <= 400_000; i++) lines.push(`${i},1,1,2025-01-01,${(i % 997) + 0.5},${(i % 5) + 1}`);
    writeRaw(config.lakeDir, 'orders', date, 'big.csv', `${lines.join('\n')}\n`);
    const run = runRef(date, 'catalog');
    const { crawlId } = await a.startCrawl({ run });
    expect((await settle(() => a.getCrawlState({ run, crawlId }))).state).toBe('SUCCEEDED');
    // order_id i sits on data row i, which is row i + 1 when the header is row 1
    const check = await a.engine.query(
      `SELECT count(*) AS n, count(*) FILTER (WHERE order_id::BIGINT + 1 <> source_row) AS misplaced FROM bronze.orders WHERE batch_date = DATE '${date}' AND source_file = 'big.csv'`,
    );
    expect(check).toEqual([{ n: 400_000, misplaced: 0 }]);
  });
});
