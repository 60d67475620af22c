/**
 * The aws catalog stage's workbook conversion against a real moto server over HTTP: each matching
 * sheet of a raw `.xlsx` becomes one CSV object under converted/<entity>/<date>/ (contract columns
 * in contract order, RFC 4180), sheets matching no entity are named as unread, a rerun replaces the
 * date's conversions, a damaged workbook fails naming it, raw objects are never changed, and the
 * `sheets_<entity>` Glue tables say where Athena finds the CSV. The converted rows equal the rows
 * the local backend's bronze holds for the same workbook.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  CreateCrawlerCommand,
  CreateDatabaseCommand,
  GetCrawlerCommand,
  GetTableCommand,
  ListCrawlsCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AwsActivities } from '../../src/activities/aws';
import { createAwsActivities } from '../../src/activities/aws';
import type { AwsClients } from '../../src/activities/aws/clients';
import { createAwsClients, destroyAwsClients } from '../../src/activities/aws/clients';
import { SHEETS_TABLE_PREFIX } from '../../src/activities/aws/validate-sql';
import type { SheetTableStep } from '../../src/client/aws-setup/sheet-tables';
import { OPEN_CSV_SERDE, SHEET_TABLE_PREFIX, ensureSheetTables, sheetTableInput } from '../../src/client/aws-setup/sheet-tables';
import { CONVERSION_RECORD, convertPartition, convertWorkbooks, keySegment } from '../../src/activities/aws/catalog-workbooks';
import type { RunRef } from '../../src/activities/types';
import type { AwsConfig } from '../../src/config';
import type { Entity } from '../../src/shared/contract';
import { COLUMNS } from '../../src/shared/contract';
import type { MotoServer } from '../support/moto';
import { motoAwsConfig, startMoto, useMotoCredentials } from '../support/moto';
import { GOLDEN, localConfig, open, runRef, settle, tempDir } from '../local/support';

const DATE = '2025-10-27';
const run = (stage: RunRef['stage'], stageAttempt = 1): RunRef => ({ runDate: DATE, workflowId: `daily-${DATE}`, stage, stageAttempt });

let moto: MotoServer;
let config: AwsConfig;
let clients: AwsClients;
let acts: AwsActivities;

beforeAll(async () => {
  useMotoCredentials();
  moto = await startMoto();
});

afterAll(async () => {
  await acts?.close();
  if (clients) destroyAwsClients(clients);
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  config = motoAwsConfig(moto.url);
  if (clients) destroyAwsClients(clients);
  clients = createAwsClients(config);
  acts = createAwsActivities(config, { webUiUrl: 'http://127.0.0.1:8233', clients });
  await clients.s3.send(new CreateBucketCommand({ Bucket: config.bucket }));
});

// ---- helpers ----------------------------------------------------------------------------------

type Row = ExcelJS.CellValue[] | null; // null: a blank row (skipped, but it takes up a row number)

async function workbook(sheets: Record<string, Row[]>): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  for (const [name, rows] of Object.entries(sheets)) {
    const ws = book.addWorksheet(name);
    rows.forEach((cells, i) => {
      if (!cells) return;
      const row = ws.getRow(i + 1);
      cells.forEach((value, j) => {
        if (value !== null && value !== undefined) row.getCell(j + 1).value = value;
      });
      row.commit();
    });
  }
  return Buffer.from(await book.xlsx.writeBuffer());
}

/** Orders in two matching sheets (one with a title row, its own column order and names, an extra column) and one of notes. */
function ordersBook(): Promise<Buffer> {
  return workbook({
    North: [
      ['Orders of the north region, Q3'],
      [' Order ID', 'Customer-ID', 'PRODUCT_ID', 'order_date', 'Order Amount', 'quantity', 'note'],
      [100, 1, 10, new Date(Date.UTC(2025, 9, 27)), 24.5, 1, 'first'],
      [101, 2, 11, '2025-10-27', 6.4, 2, null],
      null,
      [102, 3, 10, '2025-10-27', { formula: '2*24.5', result: 49 } as ExcelJS.CellFormulaValue, 2, 'a, "quoted" note'],
    ],
    South: [
      ['quantity', 'order_amount', 'order_date', 'product_id', 'customer_id', 'order_id', 'delivery_date'],
      [1, '3.20', '2025-10-28', 11, 1, 103, '2025-10-30'],
      [1, 'ten, "approx"', '2025-10-28', 10, 2, 104, null],
      [{ richText: [{ text: '1' }, { text: '2' }] }, 5, '2025-10-28', 11, 3, 105, 'C:\\tmp\nsecond line'],
      [null, null, null, null, null, null, ' '], // blank: not a row, on either backend
    ],
    Notes: [['free text', 'about orders']],
  });
}

const ORDERS_HEADER = 'order_id,customer_id,product_id,order_date,order_amount,quantity,delivery_date\n';
const NORTH_CSV = `${ORDERS_HEADER}100,1,10,2025-10-27,24.5,1,\n101,2,11,2025-10-27,6.4,2,\n102,3,10,2025-10-27,49,2,\n`;
const SOUTH_CSV = `${ORDERS_HEADER}103,1,11,2025-10-28,3.20,1,2025-10-30\n104,2,10,2025-10-28,"ten, ""approx""",1,\n105,3,11,2025-10-28,5,12,"C:\\tmp\nsecond line"\n`;

const rawKey = (entity: Entity, name: string, date = DATE) => `raw/${entity}/${date}/${name}`;

async function putRaw(entity: Entity, name: string, body: Buffer | string, date = DATE): Promise<void> {
  await clients.s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: `${config.prefix}${rawKey(entity, name, date)}`, Body: body }));
}

async function listKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2({ client: clients.s3 }, { Bucket: config.bucket, Prefix: `${config.prefix}${prefix}` })) {
    for (const o of page.Contents ?? []) keys.push(o.Key!.slice(config.prefix.length));
  }
  return keys.sort();
}

async function objectBytes(key: string): Promise<Buffer> {
  const out = await clients.s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: `${config.prefix}${key}` }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

const objectText = async (key: string) => (await objectBytes(key)).toString('utf8');

/** Every raw object's bytes, to show the conversion leaves them as they were. */
async function rawSnapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of await listKeys('raw/')) out[key] = (await objectBytes(key)).toString('base64');
  return out;
}

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

async function createCrawler(): Promise<void> {
  await clients.glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: config.glueDatabase } }));
  await clients.glue.send(
    new CreateCrawlerCommand({
      Name: config.glueCrawler,
      Role: config.glueRoleArn!,
      DatabaseName: config.glueDatabase,
      Targets: { S3Targets: [{ Path: `s3://${config.bucket}/${config.prefix}raw/`, Exclusions: ['**.xlsx'] }] },
    }),
  );
  await moto.setTransition('glue::crawl', { progression: 'manual', times: 1 });
}

const ordersFolder = `converted/orders/${DATE}/`;
const northKey = `${ordersFolder}Q3%20orders.xlsx(North).csv`;
const southKey = `${ordersFolder}Q3%20orders.xlsx(South).csv`;

// ---- conversion -------------------------------------------------------------------------------

describe('catalog stage on aws: workbook sheets as CSV', () => {
  it('converts each matching sheet of a workbook-only partition and names the sheet that matches no entity', async () => {
    await createCrawler();
    await putRaw('orders', 'Q3 orders.xlsx', await ordersBook());
    const before = await rawSnapshot();

    const handle = await acts.startCrawl({ run: run('catalog') });
    expect(handle).toEqual({ crawlId: config.glueCrawler, alreadyRunning: false });

    // Only the partition with a workbook gets a folder.
    expect(await listKeys('converted/')).toEqual([northKey, southKey, `${ordersFolder}${CONVERSION_RECORD}`]);
    expect(await objectText(northKey)).toBe(NORTH_CSV);
    expect(await objectText(southKey)).toBe(SOUTH_CSV);
    // Parsed as any RFC 4180 reader would: the cells' text, in contract order.
    expect(parse(await objectText(southKey), { columns: true })[2]).toEqual({
      order_id: '105',
      customer_id: '3',
      product_id: '11',
      order_date: '2025-10-28',
      order_amount: '5',
      quantity: '12',
      delivery_date: 'C:\\tmp\nsecond line',
    });
    expect(JSON.parse(await objectText(`${ordersFolder}${CONVERSION_RECORD}`))).toMatchObject({
      workbooks: [rawKey('orders', 'Q3 orders.xlsx')],
      sheets: [
        { source: `${rawKey('orders', 'Q3 orders.xlsx')}[North]`, key: northKey, rows: 3 },
        { source: `${rawKey('orders', 'Q3 orders.xlsx')}[South]`, key: southKey, rows: 3 },
      ],
    });

    await clients.glue.send(new ListCrawlsCommand({ CrawlerName: config.glueCrawler }));
    const st = await acts.getCrawlState({ run: run('catalog'), crawlId: handle.crawlId });
    expect(st.state).toBe('SUCCEEDED');
    expect(st.unread).toEqual([
      {
        key: `${rawKey('orders', 'Q3 orders.xlsx')}[Notes]`,
        reason: 'a sheet with no orders column in its first 10 rows (first row: free text, about orders)',
      },
    ]);
    expect(await rawSnapshot()).toEqual(before);
  });

  it('converts only the workbooks of a mixed partition, and leaves its CSV to the crawler', async () => {
    await putRaw('products', 'products.csv', 'product_id,product_name,category,price\n1,Pen,Office,1.50\n');
    await putRaw('products', 'products.xlsx', fs.readFileSync(path.join(GOLDEN, 'raw/products', DATE, 'products.xlsx')));
    await putRaw('products', 'README.txt', 'notes');
    await putRaw('customers', 'empty.xlsx', Buffer.alloc(0));
    const before = await rawSnapshot();

    const done = await convertWorkbooks(clients.s3, config, DATE);

    const folder = `converted/products/${DATE}/`;
    expect(await listKeys('converted/')).toEqual([
      `converted/customers/${DATE}/${CONVERSION_RECORD}`, // the empty workbook, named as unread
      `${folder}${CONVERSION_RECORD}`,
      `${folder}products.xlsx(Catalog).csv`,
      `${folder}products.xlsx(Clearance).csv`,
    ]);
    // The golden Clearance sheet: its own column order, an extra column, a blank row, an empty price.
    expect(await objectText(`${folder}products.xlsx(Clearance).csv`)).toBe(
      'product_id,product_name,category,price\n14,Dup v2,Misc,6.005\n15,Lamp,Home,25.5\n16,Rug,Home,2.675\n17,Ball,Toys,\n',
    );
    expect(await objectText(`${folder}products.xlsx(Catalog).csv`)).toBe(
      'product_id,product_name,category,price\n10,Widget,Tools,19.995\n11,Gadget,Tools,abc\n12,Broken,Misc,-1\n,No Id,Misc,5\n13,Free Sample,Misc,0\n14,Dup v1,Misc,6\n',
    );
    expect(done.find((d) => d.entity === 'customers')?.unread).toEqual([
      { key: rawKey('customers', 'empty.xlsx'), reason: 'an empty file (0 bytes: no header, no rows)' },
    ]);
    expect(done.find((d) => d.entity === 'orders')).toEqual({ entity: 'orders', runDate: DATE, workbooks: [], sheets: [], unread: [] });
    expect(await rawSnapshot()).toEqual(before);
  });

  it("replaces the date's conversions on a rerun, also when the workbook was replaced by a CSV", async () => {
    await putRaw('orders', 'Q3 orders.xlsx', await ordersBook());
    await putRaw('orders', 'Q3 orders.xlsx', await ordersBook(), '2025-10-26');
    await convertWorkbooks(clients.s3, config, '2025-10-26');
    await convertWorkbooks(clients.s3, config, DATE);
    expect(await listKeys(ordersFolder)).toEqual([northKey, southKey, `${ordersFolder}${CONVERSION_RECORD}`]);
    // Something else left in the date's folder goes too: the folder holds one conversion.
    await clients.s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: `${config.prefix}${ordersFolder}stray.csv`, Body: 'x' }));

    await clients.s3.send(new DeleteObjectCommand({ Bucket: config.bucket, Key: `${config.prefix}${rawKey('orders', 'Q3 orders.xlsx')}` }));
    await putRaw('orders', 'orders.csv', ORDERS_HEADER);
    const before = await rawSnapshot();
    const [, , orders] = await convertWorkbooks(clients.s3, config, DATE);

    expect(orders).toEqual({ entity: 'orders', runDate: DATE, workbooks: [], sheets: [], unread: [] });
    expect(await listKeys(ordersFolder)).toEqual([]);
    // Another date's conversions are its own.
    expect(await listKeys('converted/orders/2025-10-26/')).toHaveLength(3);
    expect(await rawSnapshot()).toEqual(before);
  });

  it('fails the stage in one line naming a damaged workbook, starts no crawl and changes nothing', async () => {
    await createCrawler();
    await putRaw('orders', 'Q3 orders.xlsx', await ordersBook());
    await convertWorkbooks(clients.s3, config, DATE);
    const converted = await Promise.all((await listKeys('converted/')).map(async (k) => [k, await objectText(k)]));

    await putRaw('orders', 'broken.xlsx', 'PK\u0003\u0004 this is not a workbook');
    // Converted first (customers come before orders), but nothing is written until every workbook was read.
    await putRaw(
      'customers',
      'people.xlsx',
      await workbook({ People: [COLUMNS.customers.map((c) => c.name), [1, 'A', 'B', 'a@b.c', '2025-01-01', 'X', 'Y']] }),
    );
    const before = await rawSnapshot();
    const err = await failure(acts.startCrawl({ run: run('catalog') }));
    expect(err.type).toBe('InvalidData');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toMatch(/^raw\/orders\/2025-10-27\/broken\.xlsx: not a readable \.xlsx workbook \(.+\)$/);
    expect(err.message).not.toContain('\n');

    const crawler = await clients.glue.send(new GetCrawlerCommand({ Name: config.glueCrawler }));
    expect(crawler.Crawler?.State).toBe('READY');
    expect(crawler.Crawler?.LastCrawl).toBeUndefined();
    expect(await Promise.all((await listKeys('converted/')).map(async (k) => [k, await objectText(k)]))).toEqual(converted);
    expect(await rawSnapshot()).toEqual(before);
  });

  it('names the sheet whose header lacks columns, and a workbook over the size limit', async () => {
    await putRaw(
      'products',
      'book.xlsx',
      await workbook({
        Bad: [
          ['product_id', 'product_name'],
          [3, 'R'],
        ],
      }),
    );
    const err = await failure(convertPartition(clients.s3, config, 'products', DATE));
    expect(err.type).toBe('InvalidData');
    expect(err.message).toContain(`${rawKey('products', 'book.xlsx')}[Bad]: header lacks products column(s) category, price`);

    const big = await failure(convertPartition(clients.s3, config, 'products', DATE, { maxWorkbookBytes: 100 }));
    expect(big.type).toBe('InvalidData');
    expect(big.message).toMatch(
      /^raw\/products\/2025-10-27\/book\.xlsx: a workbook of .* MiB is larger than the 0\.0 MiB the aws catalog stage converts/,
    );
    expect(await listKeys('converted/')).toEqual([]);
  });

  it('keys each sheet by its names, URL-safe and distinct', () => {
    expect(keySegment('Q3 orders.xlsx')).toBe('Q3%20orders.xlsx');
    expect(keySegment("Süd (alt) 'B'*~!")).toBe('S%C3%BCd%20%28alt%29%20%27B%27%2A%7E%21');
    expect(keySegment('a_b-c.1')).toBe('a_b-c.1');
    expect(decodeURIComponent(keySegment('x/y[z]#?&%'))).toBe('x/y[z]#?&%');
    expect(keySegment('x/y[z]#?&%')).toMatch(/^[A-Za-z0-9._%-]+$/);
  });
});

// ---- the sheets_<entity> tables ---------------------------------------------------------------

describe('sheets_<entity> Glue tables', () => {
  it('are created by setup with the layout the conversion writes, then found unchanged, and reported when they differ', async () => {
    expect(SHEET_TABLE_PREFIX).toBe(SHEETS_TABLE_PREFIX);
    const steps: SheetTableStep[] = [];
    const record = (s: SheetTableStep) => steps.push(s);

    await ensureSheetTables(clients.glue, config, record, { apply: false });
    expect(steps.map((s) => `${s.state} ${s.resource}`)).toEqual([
      'missing Glue table ecommerce_raw.sheets_customers',
      'missing Glue table ecommerce_raw.sheets_products',
      'missing Glue table ecommerce_raw.sheets_orders',
    ]);

    await clients.glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: config.glueDatabase } }));
    steps.length = 0;
    await ensureSheetTables(clients.glue, config, record, { apply: true });
    expect(steps.map((s) => s.state)).toEqual(['created', 'created', 'created']);

    for (const entity of ['customers', 'products', 'orders'] as const) {
      const { Table: t } = await clients.glue.send(new GetTableCommand({ DatabaseName: config.glueDatabase, Name: `sheets_${entity}` }));
      const location = `s3://${config.bucket}/lake/converted/${entity}/`;
      expect(t?.StorageDescriptor?.Location).toBe(location);
      expect(t?.StorageDescriptor?.SerdeInfo?.SerializationLibrary).toBe(OPEN_CSV_SERDE);
      expect(OPEN_CSV_SERDE).toBe('org.apache.hadoop.hive.serde2.OpenCSVSerde');
      expect(t?.StorageDescriptor?.SerdeInfo?.Parameters).toEqual({ separatorChar: ',', quoteChar: '"', escapeChar: '\u0001' });
      expect(t?.StorageDescriptor?.Columns).toEqual(COLUMNS[entity].map((c) => ({ Name: c.name, Type: 'string' })));
      expect(t?.PartitionKeys).toEqual([{ Name: 'partition_0', Type: 'string' }]);
      expect(t?.Parameters).toMatchObject({
        'skip.header.line.count': '1',
        'projection.enabled': 'true',
        'projection.partition_0.type': 'date',
        'projection.partition_0.format': 'yyyy-MM-dd',
        'projection.partition_0.range': '2000-01-01,NOW',
        'storage.location.template': `${location}\${partition_0}/`,
      });
    }

    steps.length = 0;
    await ensureSheetTables(clients.glue, config, record, { apply: true });
    expect(steps.map((s) => s.state)).toEqual(['exists', 'exists', 'exists']);

    const changed = sheetTableInput(config, 'orders');
    changed.StorageDescriptor = {
      ...changed.StorageDescriptor,
      Location: 's3://elsewhere/orders/',
      Columns: changed.StorageDescriptor!.Columns!.slice(0, 6),
    };
    await clients.glue.send(new UpdateTableCommand({ DatabaseName: config.glueDatabase, TableInput: changed }));
    steps.length = 0;
    await ensureSheetTables(clients.glue, config, record, { apply: true });
    expect(steps.map((s) => s.state)).toEqual(['exists', 'exists', 'outdated']);
    expect(steps[2]?.detail).toContain(`reads s3://elsewhere/orders/, expected s3://${config.bucket}/lake/converted/orders/`);
    expect(steps[2]?.detail).toContain('has columns (order_id string');
    const { Table: kept } = await clients.glue.send(new GetTableCommand({ DatabaseName: config.glueDatabase, Name: 'sheets_orders' }));
    expect(kept?.StorageDescriptor?.Location).toBe('s3://elsewhere/orders/');
  });
});

// ---- the same rows as the local backend -------------------------------------------------------

describe('aws and local read a workbook alike', () => {
  it("gives, for every converted sheet, exactly the rows of the local backend's bronze", async () => {
    const files: [Entity, string, Buffer][] = [
      ['orders', 'Q3 orders.xlsx', await ordersBook()],
      ['products', 'products.xlsx', fs.readFileSync(path.join(GOLDEN, 'raw/products', DATE, 'products.xlsx'))],
      ['products', 'products.csv', Buffer.from('product_id,product_name,category,price\n1,Pen,Office,1.50\n')],
      [
        'customers',
        'people.xlsx',
        await workbook({
          People: [
            ['customer_id', 'first_name', 'last_name', 'email', 'join_date', 'city', 'state', ''],
            [1, ' Ada ', 'Lovelace', 'ADA@example.com', new Date(Date.UTC(2024, 0, 5, 13, 30)), 'London', null, 'unnamed'],
            [2, 'Alan', 'Turing', { text: 'alan@example.com', hyperlink: 'mailto:alan@example.com' }, 45321, '', 'ch', null],
            [3, 'Grace', 'Hopper', 'grace@example.com', '2024-03-09', 'Arlington', 'VA', null],
            [true, 1e21, 0.1 + 0.2, 1e-7, -0, 'x', 'y', null],
          ],
        }),
      ],
    ];
    const root = tempDir('aws-workbooks-parity');
    const lconfig = localConfig(root);
    const a = open(lconfig);
    try {
      for (const [entity, name, body] of files) {
        await putRaw(entity, name, body);
        fs.mkdirSync(path.join(lconfig.lakeDir, 'raw', entity, DATE), { recursive: true });
        fs.writeFileSync(path.join(lconfig.lakeDir, 'raw', entity, DATE, name), body);
      }
      const conversions = await convertWorkbooks(clients.s3, config, DATE);
      const ref = runRef(DATE, 'catalog');
      const { crawlId } = await a.startCrawl({ run: ref });
      const localState = await settle(() => a.getCrawlState({ run: ref, crawlId }));
      expect(localState.state).toBe('SUCCEEDED');
      // The same sheets are not read, for the same reason.
      expect(conversions.flatMap((c) => c.unread)).toEqual(localState.unread);
      expect(localState.unread).toEqual([expect.objectContaining({ key: `${rawKey('orders', 'Q3 orders.xlsx')}[Notes]` })]);

      const sheets = conversions.flatMap((c) => c.sheets.map((s) => ({ entity: c.entity, ...s })));
      expect(sheets).toHaveLength(5);
      for (const sheet of sheets) {
        const columns = COLUMNS[sheet.entity].map((c) => c.name);
        const [header, ...rows] = parse(await objectText(sheet.key), { relax_column_count: false }) as string[][];
        expect(header).toEqual(columns);
        const sourceFile = sheet.source.slice(`raw/${sheet.entity}/${DATE}/`.length);
        const bronze = await a.engine.query(
          `SELECT ${columns.map((c) => `"${c}"`).join(', ')} FROM bronze.${sheet.entity} WHERE batch_date = DATE '${DATE}' AND source_file = '${sourceFile.replace(/'/g, "''")}' ORDER BY source_row`,
        );
        // A CSV field cannot tell an empty cell (NULL in bronze) from empty text; both read as ''.
        const expected = bronze.map((r) => columns.map((c) => (r[c] === null ? '' : String(r[c]))));
        expect(expected.length, sheet.source).toBeGreaterThan(0);
        expect(rows, sheet.source).toEqual(expected);
      }
    } finally {
      await a.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
