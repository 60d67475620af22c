/**
 * The warehouse is written twice, in DuckDB's dialect (src/activities/local/schema.ts) and in
 * Redshift's (sql/redshift/ddl.sql). Both are created for real - the DuckDB warehouse as the local
 * backend creates it, ddl.sql on a throwaway PostgreSQL with only Redshift's table attributes
 * stripped (test/redshift/support) - and their catalogs compared for every analytics table: column
 * names in order, types in one vocabulary, nullability and keys. A query or a dashboard moves from one
 * backend to the other unchanged, and a value one warehouse accepts the other does not refuse.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEngine } from '../../src/activities/local/engine';
import { WAREHOUSE_TABLES } from '../../src/activities/local';
import { startPostgres } from '../redshift/support/postgres';
import type { TestPostgres } from '../redshift/support/postgres';
import { SCHEMA, createWarehouse } from '../redshift/support/warehouse';
import { localConfig, tempDir } from './support';

interface Column {
  name: string;
  type: string;
  nullable: boolean;
}

/**
 * One type vocabulary for both catalogs. Text widths are left out: Redshift's VARCHAR needs a length
 * (and a longer value fails its COPY), DuckDB's has none.
 */
function normaliseType(raw: string, precision?: number | null, scale?: number | null): string {
  const t = raw.trim().toUpperCase();
  if (t === 'NUMERIC' && precision != null) return `NUMERIC(${precision},${scale ?? 0})`;
  const decimal = /^(?:DECIMAL|NUMERIC)\s*\((\d+)\s*,\s*(\d+)\)$/.exec(t);
  if (decimal) return `NUMERIC(${decimal[1]},${decimal[2]})`;
  if (/^(VARCHAR|CHARACTER VARYING|TEXT|STRING)(\s*\(\d+\))?$/.test(t)) return 'VARCHAR';
  const aliases: Record<string, string> = {
    INT8: 'BIGINT',
    INT4: 'INTEGER',
    INT: 'INTEGER',
    DOUBLE: 'DOUBLE PRECISION',
    FLOAT8: 'DOUBLE PRECISION',
    BOOL: 'BOOLEAN',
    'TIMESTAMP WITHOUT TIME ZONE': 'TIMESTAMP',
  };
  return aliases[t] ?? t;
}

/**
 * The analytics tables both warehouses declare (staging and the DuckDB-only bronze schema aside).
 * quality_reports is not among WAREHOUSE_TABLES, but both DDLs create it in the analytics schema.
 */
const TABLES = [...WAREHOUSE_TABLES, 'quality_reports'] as const;

/**
 * Differences that exist today, each to be removed by renaming on one side (with a migration): the
 * test fails on any new one, and on one of these disappearing, so the list stays true. Types,
 * nullability and order are compared on the shared columns.
 */
const KNOWN_DIFFERENCES: Record<string, { duckdbOnly: string[]; redshiftOnly: string[] }> = {
  load_audit: {
    duckdbOnly: ['statement_id', 'workflow_id', 'transform_ms', 'load_ms'],
    redshiftOnly: ['transform_started_at', 'transform_finished_at'],
  },
  // Only the local backend writes quality reports to the warehouse (src/activities/local/validate.ts);
  // the Redshift table is created by ddl.sql and written by nothing.
  quality_reports: { duckdbOnly: ['run_date', 'check', 'query_id'], redshiftOnly: ['batch_date', 'workflow_id', 'check_name'] },
};

/**
 * Shared columns whose types differ today and do not change what either warehouse holds, as
 * `column: [DuckDB, Redshift]`; like the list above, it must stay true. rejects.row_number: the Glue
 * job writes row numbers as 32-bit integers (stg_rejects), and Redshift cannot widen a column in
 * place, so a deployed warehouse would keep INTEGER anyway.
 */
const KNOWN_TYPE_DIFFERENCES: Record<string, Record<string, [string, string]>> = {
  rejects: { row_number: ['BIGINT', 'INTEGER'] },
};

/**
 * The key of each table: what ddl.sql declares as PRIMARY KEY (informational on Redshift, which does
 * not enforce it) and what the local load's merge keeps unique. DuckDB declares no keys on purpose
 * (schema.ts: index checks would slow the merge's bulk delete-then-insert).
 */
const KEYS: Record<string, string[]> = {
  dim_customers: ['customer_id'],
  dim_products: ['product_id'],
  fact_orders: ['order_id'],
  agg_daily_sales: ['order_date'],
  product_performance: ['product_id', 'order_date'],
  customer_analytics: ['customer_id'],
  rejects: [],
  load_audit: ['batch_date'],
  quality_reports: [],
};

let engine: LocalEngine;
let pg: TestPostgres;
let db: Client;

beforeAll(async () => {
  engine = new LocalEngine(localConfig(tempDir('ddl-parity')));
  pg = await startPostgres();
  db = new Client({ host: pg.host, port: pg.port, user: pg.user, database: pg.database });
  await db.connect();
  await createWarehouse(db);
});

afterAll(async () => {
  await engine?.close();
  await db?.end();
  await pg?.stop();
});

async function duckdbColumns(table: string): Promise<Column[]> {
  const rows = await engine.query(
    `SELECT column_name, data_type, is_nullable FROM information_schema.columns
     WHERE table_schema = 'analytics' AND table_name = '${table}' ORDER BY ordinal_position`,
  );
  return rows.map((r) => ({ name: String(r.column_name), type: normaliseType(String(r.data_type)), nullable: r.is_nullable === 'YES' }));
}

async function redshiftColumns(table: string): Promise<Column[]> {
  const { rows } = await db.query(
    `SELECT column_name, data_type, numeric_precision, numeric_scale, is_nullable FROM information_schema.columns
     WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
    [SCHEMA, table],
  );
  return rows.map(
    (r: {
      column_name: string;
      data_type: string;
      numeric_precision: number | null;
      numeric_scale: number | null;
      is_nullable: string;
    }) => ({
      name: r.column_name,
      type: normaliseType(r.data_type, r.numeric_precision, r.numeric_scale),
      nullable: r.is_nullable === 'YES',
    }),
  );
}

async function duckdbKeys(table: string): Promise<string[][]> {
  const rows = await engine.query(
    `SELECT constraint_column_names AS cols FROM duckdb_constraints()
     WHERE schema_name = 'analytics' AND table_name = '${table}' AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')`,
  );
  return rows.map((r) => (r.cols as { items?: unknown[] }).items?.map(String) ?? (r.cols as unknown[]).map(String));
}

async function redshiftPrimaryKey(table: string): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT k.column_name FROM information_schema.table_constraints c
     JOIN information_schema.key_column_usage k ON k.constraint_schema = c.constraint_schema AND k.constraint_name = c.constraint_name
     WHERE c.table_schema = $1 AND c.table_name = $2 AND c.constraint_type = 'PRIMARY KEY' ORDER BY k.ordinal_position`,
    [SCHEMA, table],
  );
  return rows.map((r: { column_name: string }) => r.column_name);
}

describe('the type vocabulary', () => {
  it('maps DuckDB and Redshift spellings of one type to one name', () => {
    expect(normaliseType('DECIMAL(10,2)')).toBe(normaliseType('numeric', 10, 2));
    expect(normaliseType('VARCHAR')).toBe(normaliseType('character varying'));
    expect(normaliseType('VARCHAR(1024)')).toBe('VARCHAR');
    expect(normaliseType('DOUBLE')).toBe(normaliseType('double precision'));
    expect(normaliseType('TIMESTAMP')).toBe(normaliseType('timestamp without time zone'));
    expect(normaliseType('BIGINT')).not.toBe(normaliseType('integer'));
    expect(normaliseType('DECIMAL(18,2)')).not.toBe(normaliseType('numeric', 14, 2));
  });
});

describe('warehouse DDL parity (DuckDB and Redshift)', () => {
  it('finds every analytics table in both warehouses', async () => {
    const duck = (await engine.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'analytics'`)).map((r) =>
      String(r.table_name),
    );
    const { rows } = await db.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name NOT LIKE 'stg\\_%'`,
      [SCHEMA],
    );
    const redshift = rows.map((r: { table_name: string }) => r.table_name);
    expect(duck.sort()).toEqual([...TABLES].sort());
    expect(redshift.sort()).toEqual([...TABLES].sort());
  });

  it.each([...TABLES])('%s has the same columns in the same order, known differences aside', async (table) => {
    const duck = (await duckdbColumns(table)).map((c) => c.name);
    const rs = (await redshiftColumns(table)).map((c) => c.name);
    expect(duck.length, 'DuckDB columns').toBeGreaterThan(0);
    expect(rs.length, 'Redshift columns').toBeGreaterThan(0);
    const known = KNOWN_DIFFERENCES[table] ?? { duckdbOnly: [], redshiftOnly: [] };
    expect(
      duck.filter((c) => !rs.includes(c)),
      'columns only DuckDB has',
    ).toEqual(known.duckdbOnly);
    expect(
      rs.filter((c) => !duck.includes(c)),
      'columns only Redshift has',
    ).toEqual(known.redshiftOnly);
    expect(
      duck.filter((c) => rs.includes(c)),
      'shared columns, in order',
    ).toEqual(rs.filter((c) => duck.includes(c)));
  });

  it.each([...TABLES])('%s gives each shared column the same type and nullability, known differences aside', async (table) => {
    const rs = new Map((await redshiftColumns(table)).map((c) => [c.name, c]));
    const duck = (await duckdbColumns(table)).filter((c) => rs.has(c.name));
    const known = KNOWN_TYPE_DIFFERENCES[table] ?? {};
    const differing = Object.fromEntries(
      duck.filter((c) => c.type !== rs.get(c.name)!.type).map((c) => [c.name, [c.type, rs.get(c.name)!.type]]),
    );
    expect(differing, 'types that differ').toEqual(known);
    const nullability = (c: Column) => `${c.name}${c.nullable ? '' : ' NOT NULL'}`;
    expect(duck.map(nullability)).toEqual(duck.map((c) => nullability(rs.get(c.name)!)));
  });

  it.each([...TABLES])('%s is keyed by the same columns', async (table) => {
    expect(await redshiftPrimaryKey(table), 'ddl.sql PRIMARY KEY').toEqual(KEYS[table]);
    // the local warehouse keeps keys unique in its merge and declares none
    expect(await duckdbKeys(table), 'schema.ts keys').toEqual([]);
    const duck = (await duckdbColumns(table)).filter((c) => KEYS[table].includes(c.name));
    expect(
      duck.map((c) => [c.name, c.nullable]),
      'key columns are NOT NULL locally too',
    ).toEqual(KEYS[table].map((k) => [k, false]));
  });
});

describe('a warehouse made by an older version', () => {
  it('gets its renamed columns renamed in place, rows kept', async () => {
    const config = localConfig(tempDir('ddl-rename'));
    const old = await DuckDBInstance.create(config.warehousePath);
    const conn = await old.connect();
    await conn.run(`CREATE SCHEMA analytics;
      CREATE TABLE analytics.rejects (batch_date DATE NOT NULL, entity VARCHAR NOT NULL, source_file VARCHAR NOT NULL, row_number BIGINT NOT NULL,
        reason VARCHAR NOT NULL, raw_record VARCHAR NOT NULL, rejected_at TIMESTAMP NOT NULL);
      INSERT INTO analytics.rejects VALUES ('2025-10-27', 'orders', 'orders.csv', 4, 'bad_date', '{}', '2025-10-28 01:00:00');`);
    conn.closeSync();
    old.closeSync();

    const upgraded = new LocalEngine(config);
    try {
      const columns = (await upgraded.query('DESCRIBE analytics.rejects')).map((r) => String(r.column_name));
      expect(columns).toContain('loaded_at');
      expect(columns).not.toContain('rejected_at');
      expect(await upgraded.query('SELECT reason, row_number FROM analytics.rejects')).toEqual([{ reason: 'bad_date', row_number: 4 }]);
    } finally {
      await upgraded.close();
    }
  });
});
