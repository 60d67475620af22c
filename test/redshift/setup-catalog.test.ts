/**
 * The catalog query `pipeline aws setup` plans with (src/client/aws-setup/setup.ts), run on a real
 * PostgreSQL before and after ddl.sql: it must find nothing on an empty database and then the schema
 * and every table ddl.sql creates. (Redshift's leader-node catalog, pg_namespace and pg_tables, is
 * PostgreSQL's; the Data API's `:name` parameters are `$n` here.)
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStatements } from '../../src/activities/aws/sql-templates';
import { WAREHOUSE_CATALOG_SQL, ddlTables } from '../../src/client/aws-setup/setup';
import { startPostgres } from './support/postgres';
import type { TestPostgres } from './support/postgres';
import { SCHEMA, createWarehouse } from './support/warehouse';

let pg: TestPostgres;
let db: Client;

beforeAll(async () => {
  pg = await startPostgres();
  db = new Client({ host: pg.host, port: pg.port, user: pg.user, database: pg.database });
  await db.connect();
}, 120_000);

afterAll(async () => {
  await db?.end();
  await pg?.stop();
});

async function catalog(): Promise<{ kind: string; name: string }[]> {
  const { rows } = await db.query<{ kind: string; name: string }>(WAREHOUSE_CATALOG_SQL.replace(/:schema\b/g, '$1'), [SCHEMA]);
  return rows;
}

describe("setup's warehouse catalog query", () => {
  it('finds nothing before ddl.sql, then the schema and every table ddl.sql creates', async () => {
    expect(await catalog()).toEqual([]);
    await createWarehouse(db);
    const rows = await catalog();
    expect(rows.filter((r) => r.kind === 'schema')).toEqual([{ kind: 'schema', name: SCHEMA }]);
    const wanted = ddlTables(loadStatements('ddl.sql', { schema: SCHEMA }), SCHEMA);
    expect(wanted.length).toBeGreaterThan(10);
    expect(
      rows
        .filter((r) => r.kind === 'table')
        .map((r) => r.name)
        .sort(),
    ).toEqual([...wanted].sort());
  });
});
