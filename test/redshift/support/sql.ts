/**
 * What the tests need beyond the AWS backend's own renderer (src/activities/aws/sql-templates.ts):
 * the raw files, the few rewrites that let them run on PostgreSQL, and reading a COPY statement.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const SQL_DIR = path.resolve(__dirname, '../../../sql/redshift');

export function readSql(name: 'ddl' | 'load' | 'verify'): string {
  return readFileSync(path.join(SQL_DIR, `${name}.sql`), 'utf8');
}

/** Redshift-only table attributes removed, so the DDL runs on PostgreSQL unchanged otherwise. */
export function ddlForPostgres(text: string): string {
  return text
    .replace(/\s+DISTSTYLE\s+\w+/gi, '')
    .replace(/\s+DISTKEY\s*\([^)]*\)/gi, '')
    .replace(/\s+SORTKEY\s*\([^)]*\)/gi, '');
}

/** Redshift functions the SQL uses that PostgreSQL lacks, defined with the same meaning. */
export const POSTGRES_SHIMS = [
  `CREATE OR REPLACE FUNCTION getdate() RETURNS timestamp LANGUAGE sql STABLE AS 'SELECT localtimestamp'`,
  // DATEDIFF(day, a, b): the days from a to b, as BIGINT (see statementForPostgres for the date part)
  `CREATE OR REPLACE FUNCTION datediff(part text, a date, b date) RETURNS bigint LANGUAGE sql IMMUTABLE
   AS $$ SELECT CASE WHEN part = 'day' THEN CAST(b - a AS bigint) END $$`,
];

/** A load statement as PostgreSQL takes it: Redshift's bare date part of DATEDIFF becomes the shim's text argument. */
export function statementForPostgres(statement: string): string {
  return statement.replace(/\bDATEDIFF\(day,/g, "datediff('day',");
}

export interface CopyTarget {
  table: string; // e.g. stg_orders
  source: string; // the COPY's folder relative to processed_uri, e.g. gold/fact_orders
}

/** The staging table and source folder of a `COPY ... FROM '<processed_uri>/<folder>/batch_date=D/'`. */
export function parseCopy(statement: string, processedUri: string): CopyTarget | undefined {
  const m = /^COPY\s+\S+?\.(\w+)\s+FROM\s+'([^']+)'/i.exec(statement.replace(/^(--.*\n)+/, '').trim());
  if (!m) return undefined;
  const [, table, uri] = m;
  if (!uri.startsWith(`${processedUri}/`)) throw new Error(`COPY reads outside processed_uri: ${uri}`);
  const source = uri.slice(processedUri.length + 1).replace(/\/batch_date=[^/]+\/$/, '');
  return { table, source };
}
