/** What `COPY <table> FROM '<folder>' FORMAT AS PARQUET` does, on the test PostgreSQL: every file's columns, by position. */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import type { Client } from 'pg';
import { SCHEMA, tableColumns } from './warehouse';

export async function copyParquet(db: Client, duck: DuckDBInstance, table: string, folder: string): Promise<void> {
  const files = readdirSync(folder).filter((f) => f.endsWith('.parquet'));
  if (files.length === 0) throw new Error(`COPY: no Parquet object under ${folder}`);
  const conn = await duck.connect();
  try {
    const reader = await conn.runAndReadAll(`SELECT * FROM read_parquet('${path.join(folder, '*.parquet')}')`);
    const target = await tableColumns(db, table);
    const source = reader.columnNames();
    if (source.length !== target.length) {
      throw new Error(`COPY ${table}: Parquet has ${source.length} columns (${source}), the table ${target.length} (${target})`);
    }
    const params = target.map((_, i) => `$${i + 1}`).join(', ');
    for (const row of reader.getRowsJson()) {
      await db.query(`INSERT INTO ${SCHEMA}.${table} (${target.join(', ')}) VALUES (${params})`, row);
    }
  } finally {
    conn.closeSync();
  }
}
