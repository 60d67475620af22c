/**
 * What the catalog checks about a raw CSV file besides its rows, and the careful second reading of a
 * file that DuckDB's strict CSV reader refused.
 *
 * DuckDB reads nearly every file in one fast pass. A file it refuses (a line with too many or too
 * few fields, a broken quote, mixed line endings, bytes that are not UTF-8, an over-long line) is
 * read again here, record by record, so that one bad line becomes a `malformed_row` reject instead
 * of blocking a million good rows, and a file-level problem (not UTF-8, a truncated gzip) stops the
 * stage with one line naming the file. The records that split cleanly are written to a scratch CSV
 * with their row number in front, which DuckDB then reads strictly.
 */
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import zlib from 'node:zlib';
import { ApplicationFailure } from '@temporalio/common';
import { invalidData } from '../errors';
import type { RawFile } from './lake';

/** The probe of a file's first bytes: enough for its header and to tell its encoding. */
const PROBE_BYTES = 64 * 1024;

/** A path as a literal file name for DuckDB, whose readers expand `*`, `?` and `[...]` as globs. */
export function exactPath(absPath: string): string {
  return absPath.replace(/[*?[\]]/g, (c) => `[${c}]`);
}

export function compressionOf(file: RawFile): string {
  return file.kind === 'csv.gz' ? 'gzip' : 'none';
}

function source(file: RawFile): NodeJS.ReadableStream {
  const raw = fs.createReadStream(file.absPath);
  if (file.kind !== 'csv.gz') return raw;
  const gunzip = zlib.createGunzip();
  raw.on('error', (err) => gunzip.destroy(err));
  return raw.pipe(gunzip);
}

function gzipProblem(file: RawFile, err: unknown): Error {
  const reason =
    (err as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' || /unexpected end/i.test(String(err))
      ? 'is truncated: its gzip stream ends before the end-of-stream marker (an upload cut short?)'
      : `is not valid gzip data (${(err as Error).message})`;
  return invalidData(`${file.key}: ${reason}; nothing of it was loaded`, { file: file.key });
}

/** Reads the whole gzip stream, so a file cut short is an error naming it (DuckDB stops quietly). */
export async function checkGzipComplete(file: RawFile): Promise<void> {
  if (file.kind !== 'csv.gz') return;
  const gunzip = zlib.createGunzip();
  try {
    await pipeline(fs.createReadStream(file.absPath), gunzip, new Writable({ write: (_chunk, _enc, done) => done() }));
  } catch (err) {
    throw gzipProblem(file, err);
  }
}

async function firstBytes(file: RawFile): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const stream = source(file);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= PROBE_BYTES) break;
    }
  } catch (err) {
    // A gzip file shorter than the probe that is cut short is still reported as truncated.
    if (file.kind === 'csv.gz') throw gzipProblem(file, err);
    throw err;
  } finally {
    (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
  return Buffer.concat(chunks).subarray(0, PROBE_BYTES);
}

function lineOf(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

/** Offset of the first byte that breaks UTF-8, or -1; a sequence cut by the end of `bytes` is not counted. */
function firstInvalidUtf8(bytes: Buffer, complete: boolean): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    const need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= bytes.length) return complete ? i : -1;
      if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    }
    i += need + 1;
  }
  return -1;
}

export interface CsvProbe {
  /** A file-level reason this file cannot be read as UTF-8 CSV text. */
  problem?: string;
  /** The header record's fields as written (no record at all: empty). */
  header: string[];
}

/**
 * Reads a file's first bytes: a file-level reason it cannot be read as UTF-8 CSV text (each names
 * what the file is and what to do, where the CSV reader would only say "Line: 1"), else its header.
 */
export async function probeCsv(file: RawFile): Promise<CsvProbe> {
  const bytes = await firstBytes(file);
  const starts = (...sig: number[]) => sig.every((b, i) => bytes[i] === b);
  const problem = (text: string): CsvProbe => ({ problem: text, header: [] });
  if (starts(0xff, 0xfe) || starts(0xfe, 0xff)) return problem('is UTF-16 text, not UTF-8; save it as UTF-8 (a BOM is fine)');
  if (starts(0x1f, 0x8b)) return problem(`holds gzip-compressed data but its name does not end in .gz; rename it ${file.name}.gz`);
  if (starts(0x50, 0x4b, 0x03, 0x04))
    return problem('is a zip archive (a workbook saved as .csv?); save it as CSV, or name it .xlsx if it is a workbook');
  const nul = bytes.indexOf(0);
  if (nul >= 0) return problem(`holds NUL bytes (line ${lineOf(bytes, nul)}): binary data or UTF-16, not UTF-8 text`);
  const whole = bytes.length < PROBE_BYTES;
  const bad = firstInvalidUtf8(bytes, whole);
  if (bad >= 0) return problem(notUtf8(lineOf(bytes, bad)));
  const header = firstRecord(new TextDecoder('utf-8').decode(bytes).replace(/^\ufeff/, ''), whole);
  if (!header) return problem(`has a header row longer than ${PROBE_BYTES / 1024} KB`);
  return { header };
}

/** The fields of the first non-blank record, unquoted; undefined when `text` ends inside it. */
function firstRecord(text: string, whole: boolean): string[] | undefined {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length && (text[i] === '\n' || text[i] === '\r')) i++;
  if (i === text.length) return whole ? [] : undefined;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') field += text[++i];
      else quoted = false;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      fields.push(field);
      return fields;
    } else field += c;
  }
  if (!whole || quoted) return undefined;
  fields.push(field);
  return fields;
}

const notUtf8 = (line: number) => `is not UTF-8 text (an invalid byte on line ${line}; Latin-1 or Windows-1252?); save it as UTF-8`;

export interface MalformedRecord {
  /** Row number as bronze counts it: the header is row 1, blank lines are not rows. */
  row: number;
  text: string;
  reason: string;
}

export interface CarefulRead {
  malformed: MalformedRecord[];
  /** Records written to the scratch file (the header not included). */
  written: number;
  /** Length of the longest record written, in UTF-16 code units (for DuckDB's max_line_size). */
  longest: number;
}

/**
 * Reads `file` record by record with the same dialect as the strict reader (comma, `"` quotes doubled
 * inside quoted fields, a quote inside an unquoted field is text, blank lines are not rows) and
 * writes the records that have exactly `width` fields to `scratch` as `row,<the record as it was>`,
 * one per line. Records that do not split into `width` fields are returned as malformed.
 */
export async function readCarefully(file: RawFile, width: number, scratch: string): Promise<CarefulRead> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const out = fs.openSync(scratch, 'w');
  const result: CarefulRead = { malformed: [], written: 0, longest: 0 };
  let pending: string[] = [];
  let pendingLength = 0;
  const flush = () => {
    if (pending.length) fs.writeSync(out, pending.join(''));
    pending = [];
    pendingLength = 0;
  };

  let line = 1; // physical line, for messages about bytes
  let row = 0; // records seen, the header included
  let text = ''; // the current record as written
  let fields = 1;
  let broken = ''; // why the current record cannot be split, once known
  type State = 'fieldStart' | 'unquoted' | 'quoted' | 'quoteInQuoted' | 'skipToEol';
  let state: State = 'fieldStart';
  let afterCr = false;

  const endRecord = () => {
    if (text === '' && !broken) {
      state = 'fieldStart';
      return; // a blank line is not a row
    }
    row += 1;
    if (row > 1) {
      if (broken || fields !== width) {
        const reason = broken || `${fields} field${fields === 1 ? '' : 's'} where the header has ${width}`;
        result.malformed.push({ row, text, reason });
      } else {
        const record = `${row},${text}\n`;
        pending.push(record);
        pendingLength += record.length;
        result.written += 1;
        if (text.length > result.longest) result.longest = text.length;
        if (pendingLength > 1 << 20) flush();
      }
    }
    text = '';
    fields = 1;
    broken = '';
    state = 'fieldStart';
  };

  const consume = (chunk: string) => {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (afterCr) {
        afterCr = false;
        if (c === '\n') continue; // the LF of a CRLF
      }
      if (state === 'quoted') {
        if (c === '"') state = 'quoteInQuoted';
        if (c === '\n') line++;
        text += c;
        continue;
      }
      if (c === '\n' || c === '\r') {
        if (state === 'quoteInQuoted') state = 'fieldStart';
        line++;
        afterCr = c === '\r';
        endRecord();
        continue;
      }
      text += c;
      if (state === 'skipToEol') continue;
      if (state === 'quoteInQuoted') {
        if (c === '"') state = 'quoted';
        else if (c === ',') {
          fields++;
          state = 'fieldStart';
        } else {
          broken = 'text after a closing quote';
          state = 'skipToEol';
        }
      } else if (c === ',') {
        fields++;
        state = 'fieldStart';
      } else if (state === 'fieldStart') state = c === '"' ? 'quoted' : 'unquoted';
    }
  };

  try {
    for await (const chunk of source(file) as AsyncIterable<Buffer>) {
      let decoded: string;
      try {
        decoded = decoder.decode(chunk, { stream: true });
      } catch {
        // `line` is the line this chunk starts on; count on to the offending byte.
        const at = Math.max(0, firstInvalidUtf8(chunk, false));
        throw invalidData(`${file.key}: ${notUtf8(line + lineOf(chunk, at) - 1)}`, { file: file.key });
      }
      consume(row === 0 && text === '' ? decoded.replace(/^\ufeff/, '') : decoded);
    }
    try {
      consume(decoder.decode());
    } catch {
      throw invalidData(`${file.key}: ${notUtf8(line)}`, { file: file.key });
    }
    if ((state as State) === 'quoted') broken = 'a quote opened and never closed (the rest of the file is one field)';
    if (text !== '' || broken) endRecord();
    flush();
  } catch (err) {
    if (file.kind === 'csv.gz' && !(err instanceof ApplicationFailure)) throw gzipProblem(file, err);
    throw err;
  } finally {
    fs.closeSync(out);
  }
  return result;
}
