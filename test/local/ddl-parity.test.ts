/**
 * The warehouse is written twice, in DuckDB's dialect (src/activities/local/schema.ts) and in
 * Redshift's (sql/redshift/ddl.sql): the analytics tables must keep the same columns in the same
 * order, so a query or a dashboard moves from one backend to the other unchanged.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalEngine } from '../../src/activities/local/engine';
import { WAREHOUSE_TABLES } from '../../src/activities/local';
import { localConfig, tempDir } from './support';

const DDL = fs.readFileSync(path.join(__dirname, '..', '..', 'sql', 'redshift', 'ddl.sql'), 'utf8');

/** Column names of each `CREATE TABLE {{schema}}.name (...)` in order; constraints left out. */
function redshiftColumns(): Map<string, string[]> {
  const tables = new Map<string, string[]>();
  for (const m of DDL.matchAll(/CREATE TABLE IF NOT EXISTS \{\{schema\}\}\.(\w+) \(\n([\s\S]*?)\n\)/g)) {
    const columns = m[2]!
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !/^(PRIMARY\s+KEY|UNIQUE\s*\(|FOREIGN\s+KEY|--)/i.test(line))
      .map((line) => line.split(/\s+/)[0]!);
    tables.set(m[1]!, columns);
  }
  return tables;
}

/**
 * Differences that exist today, each to be removed by renaming on one side (with a migration): the
 * test fails on any new one, and on one of these disappearing, so the list stays true.
 */
const KNOWN_DIFFERENCES: Record<string, { duckdbOnly: string[]; redshiftOnly: string[] }> = {
  load_audit: { duckdbOnly: ['statement_id', 'workflow_id', 'transform_ms', 'load_ms'], redshiftOnly: ['transform_started_at', 'transform_finished_at'] },
};

const engine = new LocalEngine(localConfig(tempDir('ddl-parity')));
afterAll(() => engine.close());

describe('warehouse DDL parity (DuckDB and Redshift)', () => {
  const redshift = redshiftColumns();

  it('finds every analytics table in the Redshift DDL', () => {
    for (const table of WAREHOUSE_TABLES) expect(redshift.has(table), table).toBe(true);
  });

  it.each([...WAREHOUSE_TABLES])('%s has the same columns in the same order, known differences aside', async (table) => {
    const duck = (await engine.query(`DESCRIBE analytics.${table}`)).map((r) => String(r.column_name));
    const rs = redshift.get(table) ?? [];
    const known = KNOWN_DIFFERENCES[table] ?? { duckdbOnly: [], redshiftOnly: [] };
    expect(duck.filter((c) => !rs.includes(c)), 'columns only DuckDB has').toEqual(known.duckdbOnly);
    expect(rs.filter((c) => !duck.includes(c)), 'columns only Redshift has').toEqual(known.redshiftOnly);
    expect(duck.filter((c) => rs.includes(c)), 'shared columns, in order').toEqual(rs.filter((c) => duck.includes(c)));
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
