/**
 * Hostile input on the local backend, on real files and real DuckDB: every case either loads
 * completely, becomes rejects with a reason, or stops its stage with one line naming the file; never
 * a partial load reported as success. After each case a conservation check counts the rows in the
 * files (independently of the engine: records of a plain CSV, header and blank lines aside) and
 * holds the stage to `read = loaded + rejected + duplicates`, or to "failed and nothing loaded".
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobStatus } from '../../src/activities/types';
import type { LocalConfig } from '../../src/config';
import type { Entity } from '../../src/shared/contract';
import { DEFAULT_QUALITY_THRESHOLDS } from '../../src/shared/quality';
import type { LocalTestBackend } from './support';
import { localConfig, open, runRef, settle, tempDir, writeRaw } from './support';

const CUSTOMERS = 'customer_id,first_name,last_name,email,join_date,city,state';
const PRODUCTS = 'product_id,product_name,category,price';
const ORDERS = 'order_id,customer_id,product_id,order_date,order_amount,quantity';

function orderLines(from: number, n: number, customers = 10, products = 10): string[] {
  return Array.from(
    { length: n },
    (_, i) =>
      `${from + i},${1 + ((from + i) % customers)},${1 + ((from + i) % products)},2025-03-01,${(1 + (i % 50)).toFixed(2)},${1 + (i % 3)}`,
  );
}

function writeDimensions(lake: string, date: string): void {
  const customers = Array.from({ length: 10 }, (_, i) => `${i + 1},F${i},L${i},u${i}@x.io,2025-01-01,City,ST`);
  const products = Array.from({ length: 10 }, (_, i) => `${i + 1},P${i},Cat,${i + 1}.50`);
  writeRaw(lake, 'customers', date, 'customers.csv', `${[CUSTOMERS, ...customers].join('\n')}\n`);
  writeRaw(lake, 'products', date, 'products.csv', `${[PRODUCTS, ...products].join('\n')}\n`);
}

/** Records in the CSV files of a partition, counted without the engine (no quoted line breaks here). */
function rowsInFiles(lake: string, entity: Entity, date: string): number {
  const dir = path.join(lake, 'raw', entity, date);
  let n = 0;
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    const st = fs.lstatSync(file);
    if (!st.isFile() || name.startsWith('.') || !/\.csv(\.gz)?$/i.test(name)) continue;
    const raw = fs.readFileSync(file);
    const text = /\.gz$/i.test(name) ? zlib.gunzipSync(raw).toString('utf8') : raw.toString('utf8');
    n += text.split(/\r\n|\n|\r/).filter((l) => l !== '').length - 1;
  }
  return n;
}

interface Outcome {
  crawl: JobStatus & { unread?: { key: string; reason: string }[] };
  etl?: JobStatus;
}

describe('hostile input (local backend)', () => {
  let root: string;
  let config: LocalConfig;
  let a: LocalTestBackend;
  let day = 0;

  beforeAll(() => {
    root = tempDir('hostile');
    config = localConfig(root);
    a = open(config);
  });

  afterAll(async () => {
    await a?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** A fresh date with good dimensions; `orders` writes that date's order partition. */
  function newDay(orders: (dir: string) => void): string {
    day += 1;
    const date = `2025-03-${String(day).padStart(2, '0')}`;
    writeDimensions(config.lakeDir, date);
    const dir = path.join(config.lakeDir, 'raw', 'orders', date);
    fs.mkdirSync(dir, { recursive: true });
    orders(dir);
    return date;
  }

  async function catalogAndTransform(date: string): Promise<Outcome> {
    const crawlRun = runRef(date, 'catalog');
    let crawl: Outcome['crawl'];
    try {
      const { crawlId } = await a.startCrawl({ run: crawlRun });
      crawl = await settle(() => a.getCrawlState({ run: crawlRun, crawlId }));
    } catch (err) {
      crawl = { state: 'FAILED', message: (err as Error).message };
    }
    if (crawl.state !== 'SUCCEEDED') return { crawl };
    const etlRun = runRef(date, 'transform');
    const { etlRunId } = await a.startEtlRun({ run: etlRun });
    const etl = await settle(() => a.getEtlRunState({ run: etlRun, etlRunId }));
    return { crawl, etl };
  }

  /** Rows in the files = loaded + rejected + duplicates, or the stage failed and no bronze was written. */
  async function expectConserved(date: string, out: Outcome, entity: Entity = 'orders'): Promise<void> {
    const bronze = await a.engine
      .query(`SELECT count(*) AS n FROM bronze.${entity} WHERE batch_date = DATE '${date}'`)
      .catch(() => [{ n: 0 }]);
    if (out.crawl.state !== 'SUCCEEDED') {
      expect(Number(bronze[0].n), 'a failed catalog leaves no bronze for the date').toBe(0);
      return;
    }
    expect(out.etl?.state, out.etl?.message).toBe('SUCCEEDED');
    const m = out.etl!.metrics!;
    expect(m[`${entity}.loaded`] + m[`${entity}.rejected`] + m[`${entity}.duplicates`]).toBe(m[`${entity}.read`]);
    expect(m[`${entity}.read`]).toBe(rowsInFiles(config.lakeDir, entity, date));
  }

  const rejects = (date: string) =>
    a.engine.query(
      `SELECT source_file, row_number, reason, raw_record FROM read_parquet('${config.lakeDir}/processed/rejects/orders/batch_date=${date}/*.parquet') ORDER BY row_number`,
    );

  it('1. a gzip file cut short at a line boundary stops the catalog naming the file; nothing is loaded', async () => {
    const full = zlib.gzipSync(`${[ORDERS, ...orderLines(1, 1000)].join('\n')}\n`);
    // Deflate data ending at a whole line, with no end-of-stream marker: what an interrupted upload leaves.
    const text = `${[ORDERS, ...orderLines(1, 600)].join('\n')}\n`;
    const deflater = zlib.createGzip();
    const chunks: Buffer[] = [];
    deflater.on('data', (c: Buffer) => chunks.push(c));
    await new Promise<void>((resolve) => deflater.write(text, () => deflater.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve())));
    const cutAtLine = Buffer.concat(chunks);
    expect(zlib.gunzipSync(cutAtLine, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString()).toBe(text);

    for (const [label, bytes] of [
      ['at a line end', cutAtLine],
      ['mid-line', full.subarray(0, Math.floor(full.length * 0.6))],
    ] as const) {
      const date = newDay((dir) => fs.writeFileSync(path.join(dir, 'orders.csv.gz'), bytes));
      const out = await catalogAndTransform(date);
      expect(out.crawl.state, label).toBe('FAILED');
      expect(out.crawl.message).toMatch(new RegExp(`^raw/orders/${date}/orders\\.csv\\.gz: is truncated`));
      expect(out.crawl.message).not.toContain('\n');
      await expectConserved(date, out);
    }
  });

  it('2. names what it does not read: sheets without a header, other kinds, folders, hidden and empty files; finds a header under a title row', async () => {
    const date = newDay((dir) => {
      fs.writeFileSync(path.join(dir, 'orders.csv'), `${[ORDERS, ...orderLines(1, 500)].join('\n')}\n`);
      for (const name of ['extra.json', 'snapshot.parquet', '.late.csv', 'upload.tmp']) fs.writeFileSync(path.join(dir, name), 'x');
      fs.writeFileSync(path.join(dir, 'empty.csv'), '');
      fs.mkdirSync(path.join(dir, 'more'));
      fs.writeFileSync(path.join(dir, 'more', 'orders.csv'), `${ORDERS}\n`);
    });
    const book = new ExcelJS.Workbook();
    const titled = book.addWorksheet('Titled');
    titled.addRow(['Orders export, March 2025']);
    titled.addRow(['Order ID', 'Customer ID', 'Product ID', 'Order Date', 'Order Amount', 'Quantity']);
    for (const line of orderLines(501, 300)) titled.addRow(line.split(','));
    const spaced = book.addWorksheet('Spaced');
    spaced.addRow(['ORDER_ID ', ' customer-id', 'product id', 'order_date', 'order_amount', 'quantity']);
    for (const line of orderLines(801, 200)) spaced.addRow(line.split(','));
    book.addWorksheet('Notes').addRow(['written by', 'the shop']);
    await book.xlsx.writeFile(path.join(config.lakeDir, 'raw', 'orders', date, 'book.xlsx'));

    const out = await catalogAndTransform(date);
    expect(out.crawl.state, out.crawl.message).toBe('SUCCEEDED');
    const prefix = `raw/orders/${date}/`;
    expect(out.crawl.unread?.map((u) => u.key).sort()).toEqual(
      ['.late.csv', 'book.xlsx[Notes]', 'empty.csv', 'extra.json', 'more', 'snapshot.parquet', 'upload.tmp'].map((n) => prefix + n).sort(),
    );
    for (const u of out.crawl.unread!) expect(u.reason.length).toBeGreaterThan(5);
    expect(out.etl?.metrics?.['orders.read']).toBe(1000);
    expect(out.etl?.metrics?.['orders.loaded']).toBe(1000);
    const titledRows = await a.engine.query(
      `SELECT min(source_row) AS first, count(*) AS n FROM bronze.orders WHERE batch_date = DATE '${date}' AND source_file = 'book.xlsx[Titled]'`,
    );
    expect(titledRows).toEqual([{ first: 2, n: 300 }]);
  });

  it('3. reads file names as data, never as patterns', async () => {
    const date = newDay((dir) => {
      fs.writeFileSync(path.join(dir, 'orders*.csv'), `${[ORDERS, ...orderLines(1, 500)].join('\n')}\n`);
      // The same contract in another column order: read by a glob it would be mapped by the wrong header.
      const swapped = orderLines(501, 500).map((l) => {
        const [o, c, p, ...rest] = l.split(',');
        return [o, p, c, ...rest].join(',');
      });
      fs.writeFileSync(
        path.join(dir, 'orders (b).csv'),
        `${['order_id,product_id,customer_id,order_date,order_amount,quantity', ...swapped].join('\n')}\n`,
      );
      fs.writeFileSync(path.join(dir, 'orders[1].csv'), `${[ORDERS, ...orderLines(1001, 10)].join('\n')}\n`);
      fs.writeFileSync(path.join(dir, 'orders?.csv'), `${[ORDERS, ...orderLines(1011, 10)].join('\n')}\n`);
      // A trailing comma on every line, header included, is an unnamed column, not a malformed line.
      fs.writeFileSync(path.join(dir, 'trailing.csv'), `${[`${ORDERS},`, ...orderLines(1021, 10).map((l) => `${l},`)].join('\n')}\n`);
    });
    const out = await catalogAndTransform(date);
    await expectConserved(date, out);
    expect(out.etl?.metrics).toMatchObject({ 'orders.read': 1030, 'orders.loaded': 1030, 'orders.duplicates': 0, 'orders.rejected': 0 });
    const swappedOk = await a.engine.query(
      `SELECT count(*) AS n FROM bronze.orders WHERE batch_date = DATE '${date}' AND source_file = 'orders (b).csv'
         AND customer_id::INT = 1 + (order_id::INT % 10) AND product_id::INT = 1 + (order_id::INT % 10)`,
    );
    expect(swappedOk).toEqual([{ n: 500 }]);
  });

  it('4. never follows a link out of the partition: it is named, and nothing of its target is read', async () => {
    const secret = path.join(root, 'outside-secret.csv');
    fs.writeFileSync(secret, `${ORDERS}\nroot:x:0:0:SECRET-LINE\n`);
    const date = newDay((dir) => {
      fs.writeFileSync(path.join(dir, 'orders.csv'), `${[ORDERS, ...orderLines(1, 20)].join('\n')}\n`);
      fs.symlinkSync(secret, path.join(dir, 'linked.csv'));
    });
    const out = await catalogAndTransform(date);
    expect(out.crawl.state).toBe('SUCCEEDED');
    expect(out.crawl.unread).toEqual([{ key: `raw/orders/${date}/linked.csv`, reason: expect.stringContaining('symbolic link') }]);
    expect(JSON.stringify(out)).not.toContain('SECRET-LINE');
    expect(out.etl?.metrics?.['orders.read']).toBe(20);

    // A whole partition folder linked to somewhere outside the lake is refused by name.
    const elsewhere = tempDir('elsewhere');
    fs.writeFileSync(path.join(elsewhere, 'orders.csv'), `${ORDERS}\n1,1,1,2025-03-01,1.00,1\n`);
    const linkedDate = '2025-04-30';
    writeDimensions(config.lakeDir, linkedDate);
    fs.symlinkSync(elsewhere, path.join(config.lakeDir, 'raw', 'orders', linkedDate));
    const refused = await catalogAndTransform(linkedDate);
    expect(refused.crawl.state).toBe('FAILED');
    expect(refused.crawl.message).toMatch(
      new RegExp(`raw/orders/${linkedDate}/: the partition folder resolves to .*, outside the lake folder`),
    );
    fs.rmSync(elsewhere, { recursive: true, force: true });
  });

  it('8. one malformed line becomes a malformed_row reject with its line and text; the other rows load', async () => {
    const lines = orderLines(1, 1000);
    lines[99] = '100,1,1,2025-03-01,9.00,1,surplus'; // row 101: a field too many
    lines[199] = '200,1,1'; // row 201: fields missing
    lines[299] = '   '; // row 301: whitespace only
    lines[399] = '400,1,"1"x,2025-03-01,9.00,1'; // row 401: text after a closing quote
    // Mixed line endings: the strict reader's state machine gives up on the whole file.
    const text = `${ORDERS}\r\n${lines.map((l, i) => l + (i % 7 === 0 ? '\r\n' : '\n')).join('')}`;
    const date = newDay((dir) => fs.writeFileSync(path.join(dir, 'orders.csv'), text));
    const out = await catalogAndTransform(date);
    expect(out.crawl.state, out.crawl.message).toBe('SUCCEEDED');
    await expectConserved(date, out);
    expect(out.etl?.metrics).toMatchObject({ 'orders.read': 1000, 'orders.rejected': 4, 'orders.loaded': 996 });
    expect(await rejects(date)).toEqual([
      { source_file: 'orders.csv', row_number: 101, reason: 'malformed_row', raw_record: JSON.stringify({ line: lines[99] }) },
      { source_file: 'orders.csv', row_number: 201, reason: 'malformed_row', raw_record: JSON.stringify({ line: lines[199] }) },
      { source_file: 'orders.csv', row_number: 301, reason: 'malformed_row', raw_record: JSON.stringify({ line: lines[299] }) },
      { source_file: 'orders.csv', row_number: 401, reason: 'malformed_row', raw_record: JSON.stringify({ line: lines[399] }) },
    ]);
    // The gate counts them against validity.
    const q = await a.startQuery({ run: runRef(date, 'validate'), query: 'quality_checks', thresholds: DEFAULT_QUALITY_THRESHOLDS });
    await settle(() => a.getQueryState({ run: runRef(date, 'validate'), queryId: q.queryId }));
    const page = await a.getQueryResults({ run: runRef(date, 'validate'), queryId: q.queryId });
    const validity = page.rows.find((r) => r[0] === 'orders' && r[1] === 'validity');
    expect(validity?.[2]).toBeCloseTo(996 / 1000, 6);
  });

  it('9. says what is wrong with a file in one line: encoding, compression, size', async () => {
    const body = `${[ORDERS, ...orderLines(1, 5)].join('\n')}\n`;
    const cases: [string, Buffer | string, RegExp][] = [
      ['orders.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(body, 'utf16le')]), /is UTF-16 text, not UTF-8/],
      [
        'orders.csv',
        Buffer.from(`${ORDERS}\n1,1,1,2025-03-01,1.00,1\n2,1,1,2025-03-01,M\xfcller,1\n`, 'latin1'),
        /is not UTF-8 text \(an invalid byte on line 3/,
      ],
      ['orders.csv', zlib.gzipSync(body), /holds gzip-compressed data but its name does not end in \.gz; rename it orders\.csv\.gz/],
    ];
    for (const [name, bytes, expected] of cases) {
      const date = newDay((dir) => fs.writeFileSync(path.join(dir, name), bytes));
      const out = await catalogAndTransform(date);
      expect(out.crawl.state).toBe('FAILED');
      expect(out.crawl.message).toMatch(new RegExp(`^raw/orders/${date}/${name.replace('.', '\\.')}: `));
      expect(out.crawl.message).toMatch(expected);
      expect(out.crawl.message).not.toContain('\n');
      await expectConserved(date, out);
    }

    // Not UTF-8 far past the first bytes is still a file-level error, found on the careful reading.
    const late = newDay((dir) =>
      fs.writeFileSync(
        path.join(dir, 'orders.csv'),
        Buffer.concat([
          Buffer.from(`${[ORDERS, ...orderLines(1, 5000)].join('\n')}\n`),
          Buffer.from('5001,1,1,2025-03-01,1.00,\xe9\n', 'latin1'),
        ]),
      ),
    );
    const lateOut = await catalogAndTransform(late);
    expect(lateOut.crawl.message).toMatch(/orders\.csv: is not UTF-8 text \(an invalid byte on line 5002/);

    // Upper-case names are decompressed all the same; a 5 MB field is read whole.
    const date = newDay((dir) => {
      fs.writeFileSync(path.join(dir, 'ORDERS.CSV.GZ'), zlib.gzipSync(body));
      fs.writeFileSync(
        path.join(dir, 'wide.csv'),
        `order_id,customer_id,product_id,order_date,order_amount,quantity,note\n9,1,1,2025-03-01,1.00,1,${'x'.repeat(5_000_000)}\n`,
      );
    });
    const out = await catalogAndTransform(date);
    expect(out.crawl.state, out.crawl.message).toBe('SUCCEEDED');
    expect(out.etl?.metrics).toMatchObject({ 'orders.read': 6, 'orders.loaded': 6 });
  });
});
