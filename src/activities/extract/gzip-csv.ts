/**
 * Streams one statement's rows from PostgreSQL into a gzip CSV file: a server-side cursor reads a
 * batch at a time and each stage waits for the next (backpressure), so a million-row table never
 * sits in memory. The CSV is the dialect the catalog reads (src/generate/csv-file.ts: RFC 4180, LF,
 * a header of the statement's column names); NULL is an empty field; every value is PostgreSQL's
 * own text for it, with dates as YYYY-MM-DD and times in UTC.
 */
import fs from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { Client } from 'pg';
import QueryStream from 'pg-query-stream';
import { toCsv } from '../../generate/csv-file';
import type { SourceStatement } from './source';

/** Rows per cursor read, and per CSV chunk. */
const BATCH_ROWS = 2_000;

/** Every column as the server's text: no Date objects shifted into the worker's time zone, no rounded numerics. */
const AS_TEXT = { getTypeParser: () => (value: string) => value };

export interface GzipCsvResult {
  rows: number;
  /** Size of the gzip file. */
  bytes: number;
  columns: string[];
}

export interface GzipCsvOptions {
  /** Called after each batch with the rows written so far (heartbeats). */
  onRows?: (rows: number) => void;
  /** Aborts the read (activity cancellation): the cursor is closed and the connection ended. */
  signal?: AbortSignal;
}

export class NoColumnsError extends Error {}

export async function extractToGzipCsv(
  databaseUrl: string,
  statement: SourceStatement,
  file: string,
  options: GzipCsvOptions = {},
): Promise<GzipCsvResult> {
  const client = new Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'ecommerce-pipeline extract',
  });
  // A connection lost between calls is reported by the call that needs it; without a listener it would end the worker.
  client.on('error', () => undefined);
  await client.connect();
  try {
    // Read-only: a configured query can read the shop's data, never change it.
    await client.query("SET DateStyle = ISO; SET TimeZone = 'UTC'; BEGIN TRANSACTION READ ONLY");
    const query = new QueryStream(statement.text, statement.values, { batchSize: BATCH_ROWS, rowMode: 'array', types: AS_TEXT });
    const rowStream = client.query(query);
    let columns: string[] | undefined;
    let rows = 0;
    let batch: string[][] = [];
    const header = (): string => {
      columns ??= ((query._result as { fields: { name: string }[] }).fields ?? []).map((f) => f.name);
      if (columns.length === 0) throw new NoColumnsError('the statement returns no columns');
      return toCsv([columns]);
    };
    const take = (): string => {
      const text = toCsv(batch);
      rows += batch.length;
      batch = [];
      options.onRows?.(rows);
      return text;
    };
    const toText = new Transform({
      writableObjectMode: true,
      transform(row: (string | null)[], _enc, done) {
        try {
          const first = columns === undefined ? header() : '';
          batch.push(row.map((v) => v ?? ''));
          if (first || batch.length >= BATCH_ROWS) done(null, first + (batch.length >= BATCH_ROWS ? take() : ''));
          else done();
        } catch (err) {
          done(err as Error);
        }
      },
      flush(done) {
        try {
          done(null, (columns === undefined ? header() : '') + (batch.length ? take() : ''));
        } catch (err) {
          done(err as Error);
        }
      },
    });
    const out = fs.createWriteStream(file);
    await pipeline(rowStream, toText, zlib.createGzip(), out, options.signal ? { signal: options.signal } : {});
    await client.query('COMMIT');
    return { rows, bytes: out.bytesWritten, columns: columns ?? [] };
  } finally {
    await client.end().catch(() => undefined);
  }
}
