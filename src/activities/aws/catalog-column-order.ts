/**
 * Athena reads a crawled CSV table by column position, while the data contract lets each file put its
 * columns in any order. A file whose header disagrees with the crawled table would be measured with
 * its values under the wrong names, so the catalog stage stops on it with a message naming the file,
 * instead of letting the quality gate report wrong numbers. The Glue job maps columns by name and is
 * not affected.
 */
import zlib from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AwsConfig } from '../../config';
import type { CatalogedTable } from '../types';
import { awsCall } from './aws-errors';
import { listRawObjects } from './s3';

/** Enough for any header line; only this much of each file is read. */
const HEADER_BYTES = 16 * 1024;

/** The first line's fields, trimmed and lower-cased as the contract compares names. */
export function headerColumns(firstBytes: Buffer): string[] {
  const text = firstBytes.toString('utf8').replace(/^\uFEFF/, '');
  const line = text.split(/\r?\n/, 1)[0] ?? '';
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  fields.push(field);
  return fields.map((f) => f.trim().toLowerCase());
}

/** The positions where a file's header and the table's columns name different columns. */
export function misplacedColumns(fileColumns: string[], tableColumns: string[]): { position: number; file: string; table: string }[] {
  const out: { position: number; file: string; table: string }[] = [];
  const n = Math.min(fileColumns.length, tableColumns.length);
  for (let i = 0; i < n; i++) {
    const table = tableColumns[i]!.trim().toLowerCase();
    if (fileColumns[i] !== table) out.push({ position: i + 1, file: fileColumns[i]!, table });
  }
  return out;
}

async function firstBytes(s3: S3Client, config: AwsConfig, key: string): Promise<Buffer> {
  const where = `S3 object s3://${config.bucket}/${config.prefix}${key}`;
  const raw = await awsCall(where, 'GetObject', async () => {
    const out = await s3.send(
      new GetObjectCommand({ Bucket: config.bucket, Key: `${config.prefix}${key}`, Range: `bytes=0-${HEADER_BYTES - 1}` }),
    );
    return Buffer.from((await out.Body?.transformToByteArray()) ?? new Uint8Array());
  });
  // A gzip stream cut short is still readable up to where it was cut.
  return key.toLowerCase().endsWith('.gz') ? zlib.gunzipSync(raw, { finishFlush: zlib.constants.Z_SYNC_FLUSH }) : raw;
}

/** One line per CSV file of the run's partitions whose header would be misread by Athena. */
export async function checkRawColumnOrder(s3: S3Client, config: AwsConfig, runDate: string, tables: CatalogedTable[]): Promise<string[]> {
  const problems: string[] = [];
  for (const table of tables) {
    if (table.columns.length === 0) continue;
    const listing = await listRawObjects(s3, config, table.entity, runDate);
    for (const object of listing.objects) {
      if (object.key.toLowerCase().endsWith('.xlsx')) continue; // not crawled, not read by Athena
      const wrong = misplacedColumns(headerColumns(await firstBytes(s3, config, object.key)), table.columns);
      if (wrong.length === 0) continue;
      const shown = wrong.slice(0, 3).map((w) => `column ${w.position} is ${w.file || '(empty)'}, the table has ${w.table}`);
      problems.push(`${object.key}: ${shown.join('; ')}${wrong.length > 3 ? `; and ${wrong.length - 3} more` : ''}`);
    }
  }
  return problems;
}

export function columnOrderFailure(problems: string[]): string {
  return (
    `raw files whose columns are in another order than the crawled table (Athena reads CSV by position, so the quality gate would misread them): ${problems.join(' | ')}. ` +
    "Put the columns in the table's order and rerun catalog, or skip catalog and validate (the Glue job reads columns by name)."
  );
}
