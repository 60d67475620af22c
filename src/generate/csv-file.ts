/**
 * Writes rows as RFC 4180 CSV through csv-stringify, in batches so a million rows stream with flat
 * memory. The file is written under a temporary name and renamed into place, so a sensor polling the
 * lake never sees half a file.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';

const BATCH_ROWS = 8_192;

const NEEDS_QUOTING = /[",\r\n]/;

/**
 * CSV text of some rows. csv-stringify costs about 10 us a row, which is most of a million-order
 * day, so rows with no delimiter, quote or line break (nearly all of them) are joined directly, which
 * gives the same bytes (test/generate/csv.test.ts checks that); any other row goes through csv-stringify.
 */
export function toCsv(rows: string[][]): string {
  let out = '';
  for (const row of rows) out += row.some((f) => NEEDS_QUOTING.test(f)) ? stringify([row]) : `${row.join(',')}\n`;
  return out;
}

export interface CsvWriteResult {
  rows: number;
  bytes: number;
}

export async function writeCsvFile(
  target: string,
  tmpDir: string,
  header: string[],
  rows: Iterable<string[]>,
  onRows?: (n: number) => void,
): Promise<CsvWriteResult> {
  await mkdir(tmpDir, { recursive: true });
  await mkdir(path.dirname(target), { recursive: true });
  const tmp = path.join(tmpDir, `${path.basename(target)}.${process.pid}.partial`);
  const out = createWriteStream(tmp);
  let count = 0;
  try {
    const write = async (chunk: string) => {
      // once() also rejects when the stream emits 'error' meanwhile.
      if (!out.write(chunk)) await once(out, 'drain');
    };
    await write(toCsv([header]));
    let batch: string[][] = [];
    for (const row of rows) {
      batch.push(row);
      if (batch.length === BATCH_ROWS) {
        await write(toCsv(batch));
        count += batch.length;
        onRows?.(batch.length);
        batch = [];
      }
    }
    if (batch.length > 0) {
      await write(toCsv(batch));
      count += batch.length;
      onRows?.(batch.length);
    }
    out.end();
    await once(out, 'finish');
  } catch (err) {
    out.destroy();
    await rm(tmp, { force: true });
    throw err;
  }
  await rename(tmp, target);
  return { rows: count, bytes: out.bytesWritten };
}
