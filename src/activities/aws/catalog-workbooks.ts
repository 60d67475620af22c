/**
 * The catalog stage's workbook conversion on AWS. The Glue crawler has no classifier for `.xlsx`
 * (setup excludes them from the crawl), so before the crawler starts every workbook of the run's
 * partitions is read here, exactly as the local backend reads it (../workbook.ts), and each sheet
 * whose header matches the entity becomes one CSV object that the `sheets_<entity>` table
 * (src/client/aws-setup/sheet-tables.ts) shows to Athena:
 *
 *   raw/orders/2025-10-27/Q3 book.xlsx  sheet "North"
 *     -> <prefix>converted/orders/2025-10-27/Q3%20book.xlsx(North).csv
 *
 * Key: the workbook's name, then the sheet's name in parentheses (the lineage name `book.xlsx[Sheet]`
 * with URL-safe delimiters), each name with every character outside A-Z a-z 0-9 . _ - percent-encoded
 * (UTF-8), so keys are URL-safe, distinct for distinct sheets, and decode back to the names. Body: a
 * header row, then the entity's contract columns in contract order, each value the cell's text
 * (an empty field for an empty cell or a column the sheet lacks), quoted per RFC 4180, lines ending
 * in LF. `_conversion.json` beside them records what was converted and what was not read (Athena
 * skips files whose names start with `_`); getCrawlState reports the latter. A partition without
 * workbooks gets no folder.
 *
 * A rerun replaces the date's conversions: everything under `converted/<entity>/<date>/` is deleted
 * before the new objects are written, and only after every workbook of the run's three partitions
 * was read, so a bad workbook fails the stage (one line naming it) and changes nothing. Raw objects
 * are only read.
 *
 * Memory: one workbook at a time is read whole (exceljs has no streaming reader for random-access
 * zip parts, and its model takes several times the file's size), so a workbook larger than
 * MAX_WORKBOOK_BYTES is refused, naming it; the run's CSV text is held until it is written.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AwsConfig } from '../../config';
import type { Entity } from '../../shared/contract';
import { COLUMNS, ENTITIES } from '../../shared/contract';
import { invalidData } from '../errors';
import type { UnreadItem } from '../types';
import type { SheetTable } from '../workbook';
import { readWorkbook, sheetTable } from '../workbook';
import { awsCall, awsErrorName, classifyAwsError } from './aws-errors';
import { listRawObjects } from './s3';
import { convertedPrefix } from './lake-paths';

/**
 * The largest workbook converted (its object size). Measured with exceljs 4.4 on a 7-column sheet:
 * 8.5 MiB of .xlsx is 300,000 rows, read in about 7 s with about 1 GiB of memory at its peak
 * (roughly 125 MiB per MiB of workbook), well inside the catalog activity's 2-minute timeout.
 */
export const MAX_WORKBOOK_BYTES = 8 * 1024 * 1024;

/** The record of a date's conversion, inside its folder (a name Athena does not read). */
export const CONVERSION_RECORD = '_conversion.json';

export interface ConvertedSheet {
  /** Lineage name, as the local backend names the sheet: `raw/orders/D/book.xlsx[Sheet]`. */
  source: string;
  /** Bucket-prefix-relative key of the CSV object. */
  key: string;
  rows: number;
}

export interface PartitionConversion {
  entity: Entity;
  runDate: string;
  /** Raw keys of the workbooks read. */
  workbooks: string[];
  sheets: ConvertedSheet[];
  /** Sheets matching no entity column, empty workbooks: named in the catalog stage's status. */
  unread: UnreadItem[];
}

export interface ConvertOptions {
  maxWorkbookBytes?: number;
}

/** A name as one URL-safe key segment: A-Z a-z 0-9 . _ - stay, everything else is %XX of its UTF-8. */
export function keySegment(name: string): string {
  return encodeURIComponent(name).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Bucket key of one converted sheet: `<prefix>converted/<entity>/<date>/<workbook>(<sheet>).csv`. */
export function convertedSheetKey(config: AwsConfig, entity: Entity, runDate: string, workbookName: string, sheetName: string): string {
  return `${convertedPrefix(config, entity, runDate)}${keySegment(workbookName)}(${keySegment(sheetName)}).csv`;
}

/** RFC 4180: a field holding a quote, comma or line break is quoted, its quotes doubled. */
function csvField(value: string): string {
  if (!/[",\r\n\u0001]/.test(value)) return value;
  // U+0001 is the table's SerDe escape character (src/client/aws-setup/sheet-tables.ts): doubled, it reads as itself.
  return `"${value.replace(/"/g, '""').replace(/\u0001/g, '\u0001\u0001')}"`;
}

/** A matching sheet as CSV text: the header, then the entity's contract columns in contract order. */
export function sheetCsv(entity: Entity, table: SheetTable): string {
  const columns = COLUMNS[entity].map((c) => c.name);
  const position = columns.map((c) => table.header.indexOf(c));
  const lines = [columns.join(',')];
  for (const row of table.rows) lines.push(position.map((p) => (p < 0 ? '' : csvField(row.cells[p] ?? ''))).join(','));
  return `${lines.join('\n')}\n`;
}

const where = (config: AwsConfig, key: string) => `S3 object s3://${config.bucket}/${key}`;

async function readObject(s3: S3Client, config: AwsConfig, rawKey: string, maxBytes: number): Promise<Uint8Array> {
  const key = `${config.prefix}${rawKey}`;
  const out = await awsCall(where(config, key), 'GetObject', () => s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: key })));
  // The listing said it fits; an object replaced since then is checked again before it is read.
  if ((out.ContentLength ?? 0) > maxBytes) {
    (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
    throw tooLarge(rawKey, out.ContentLength ?? 0, maxBytes);
  }
  return awsCall(where(config, key), 'GetObject', async () => (await out.Body?.transformToByteArray()) ?? new Uint8Array());
}

function tooLarge(rawKey: string, size: number, maxBytes: number) {
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return invalidData(
    `${rawKey}: a workbook of ${mib(size)} is larger than the ${mib(maxBytes)} the aws catalog stage converts (it is read whole into memory); split it or deliver its sheets as CSV`,
    { file: rawKey },
  );
}

interface PreparedPartition {
  conversion: PartitionConversion;
  bodies: { key: string; body: string }[];
}

/** Reads a partition's workbooks into CSV text; writes nothing. */
async function preparePartition(
  s3: S3Client,
  config: AwsConfig,
  entity: Entity,
  runDate: string,
  options: ConvertOptions,
): Promise<PreparedPartition> {
  const maxBytes = options.maxWorkbookBytes ?? MAX_WORKBOOK_BYTES;
  const listing = await listRawObjects(s3, config, entity, runDate);
  const conversion: PartitionConversion = { entity, runDate, workbooks: [], sheets: [], unread: [] };
  const bodies: PreparedPartition['bodies'] = [];
  for (const object of listing.objects) {
    if (!object.key.toLowerCase().endsWith('.xlsx')) continue; // CSV is crawled as it is
    if (object.size === 0) {
      conversion.unread.push({ key: object.key, reason: 'an empty file (0 bytes: no header, no rows)' });
      continue;
    }
    if (object.size > maxBytes) throw tooLarge(object.key, object.size, maxBytes);
    const name = object.key.slice(listing.prefix.length);
    const sheets = await readWorkbook(await readObject(s3, config, object.key, maxBytes), object.key);
    conversion.workbooks.push(object.key);
    for (const sheet of sheets) {
      const source = `${object.key}[${sheet.sheet}]`;
      const table = sheetTable(entity, sheet, source);
      if ('unread' in table) {
        conversion.unread.push({ key: source, reason: table.unread });
        continue;
      }
      const key = convertedSheetKey(config, entity, runDate, name, sheet.sheet);
      bodies.push({ key, body: sheetCsv(entity, table) });
      conversion.sheets.push({ source, key: key.slice(config.prefix.length), rows: table.rows.length });
    }
  }
  return { conversion, bodies };
}

/** Replaces everything under the partition's converted folder with its new objects and record. */
async function writePartition(s3: S3Client, config: AwsConfig, { conversion, bodies }: PreparedPartition): Promise<void> {
  const folder = convertedPrefix(config, conversion.entity, conversion.runDate);
  const stale: string[] = [];
  await awsCall(`S3 bucket ${config.bucket} (s3://${config.bucket}/${folder})`, 'ListObjectsV2', async () => {
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: config.bucket, Prefix: folder })) {
      for (const o of page.Contents ?? []) if (o.Key) stale.push(o.Key);
    }
  });
  for (const key of stale)
    await awsCall(where(config, key), 'DeleteObject', () => s3.send(new DeleteObjectCommand({ Bucket: config.bucket, Key: key })));
  for (const { key, body } of bodies) {
    await awsCall(where(config, key), 'PutObject', () =>
      s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: key, Body: body, ContentType: 'text/csv; charset=utf-8' })),
    );
  }
  // A partition without workbooks leaves nothing behind (a day of CSV files writes no objects).
  if (conversion.workbooks.length === 0 && conversion.unread.length === 0) return;
  const recordKey = `${folder}${CONVERSION_RECORD}`;
  await awsCall(where(config, recordKey), 'PutObject', () =>
    s3.send(
      new PutObjectCommand({
        Bucket: config.bucket,
        Key: recordKey,
        Body: `${JSON.stringify(conversion, null, 2)}\n`,
        ContentType: 'application/json',
      }),
    ),
  );
}

/** Converts one partition's workbooks, replacing the date's earlier conversions of that entity. */
export async function convertPartition(
  s3: S3Client,
  config: AwsConfig,
  entity: Entity,
  runDate: string,
  options: ConvertOptions = {},
): Promise<PartitionConversion> {
  const prepared = await preparePartition(s3, config, entity, runDate, options);
  await writePartition(s3, config, prepared);
  return prepared.conversion;
}

/**
 * The catalog stage's first step on AWS: every workbook of the run's three partitions as CSV. All
 * of them are read before anything is written, so a bad workbook anywhere changes nothing.
 */
export async function convertWorkbooks(
  s3: S3Client,
  config: AwsConfig,
  runDate: string,
  options: ConvertOptions = {},
): Promise<PartitionConversion[]> {
  const prepared: PreparedPartition[] = [];
  for (const entity of ENTITIES) prepared.push(await preparePartition(s3, config, entity, runDate, options));
  for (const p of prepared) await writePartition(s3, config, p);
  return prepared.map((p) => p.conversion);
}

/** What the date's conversions did not read (from their records); nothing for a date never converted. */
export async function unreadInWorkbooks(s3: S3Client, config: AwsConfig, runDate: string): Promise<UnreadItem[]> {
  const unread: UnreadItem[] = [];
  for (const entity of ENTITIES) {
    const key = `${convertedPrefix(config, entity, runDate)}${CONVERSION_RECORD}`;
    let text: string;
    try {
      const out = await s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: key }));
      text = (await out.Body?.transformToString('utf-8')) ?? '';
    } catch (err) {
      if (awsErrorName(err) === 'NoSuchKey') continue;
      throw classifyAwsError(err, where(config, key), 'GetObject');
    }
    let record: Partial<PartitionConversion>;
    try {
      record = JSON.parse(text) as Partial<PartitionConversion>;
    } catch (err) {
      throw invalidData(`${where(config, key)} is not JSON (${(err as Error).message}); run the catalog stage again to rewrite it`);
    }
    for (const u of record.unread ?? [])
      if (typeof u?.key === 'string' && typeof u.reason === 'string') unread.push({ key: u.key, reason: u.reason });
  }
  return unread;
}
