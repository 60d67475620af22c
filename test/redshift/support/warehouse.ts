/**
 * The Redshift warehouse stood up on a test PostgreSQL: the SQL files rendered and split by the AWS
 * backend's own code, DDL applied, and load.sql run the way the Data API runs a batch (one
 * transaction), with each COPY handed to the caller to stage the rows itself.
 */
import type { Client } from 'pg';
import { loadStatements } from '../../../src/activities/aws/sql-templates';
import { POSTGRES_SHIMS, ddlForPostgres, parseCopy, statementForPostgres } from './sql';
import type { CopyTarget } from './sql';

export const SCHEMA = 'analytics';
export const PROCESSED = 's3://lake-bucket/pipeline/processed';
export const COPY_ROLE = 'arn:aws:iam::123456789012:role/redshift-copy';

export async function createWarehouse(db: Client): Promise<void> {
  for (const shim of POSTGRES_SHIMS) await db.query(shim);
  for (const statement of loadStatements('ddl.sql', { schema: SCHEMA })) await db.query(ddlForPostgres(statement));
}

/** Runs load.sql for one date in one transaction; a failure rolls everything back and is rethrown. */
export async function runLoad(db: Client, runDate: string, stage: (copy: CopyTarget) => Promise<void>): Promise<void> {
  const statements = loadStatements('load.sql', { schema: SCHEMA, run_date: runDate, processed_uri: PROCESSED, copy_role_arn: COPY_ROLE });
  await db.query('BEGIN');
  try {
    for (const statement of statements) {
      const copy = parseCopy(statement, PROCESSED);
      if (copy) await stage(copy);
      else await db.query(statementForPostgres(statement));
    }
    await db.query('COMMIT');
  } catch (error) {
    await db.query('ROLLBACK');
    throw error;
  }
}

export async function runVerify(db: Client, runDate: string): Promise<Record<string, unknown>[]> {
  const statements = loadStatements('verify.sql', { schema: SCHEMA, run_date: runDate });
  if (statements.length !== 1) throw new Error(`verify.sql should be one statement, found ${statements.length}`);
  return (await db.query(statements[0])).rows;
}

/** A table's columns in declaration order: the order COPY ... FORMAT AS PARQUET fills them in. */
export async function tableColumns(db: Client, table: string): Promise<string[]> {
  const { rows } = await db.query(
    'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
    [SCHEMA, table],
  );
  return rows.map((r: { column_name: string }) => r.column_name);
}
