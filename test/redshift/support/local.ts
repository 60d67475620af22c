/**
 * The local backend as the reference for load.sql. A batch runs through the local activities (crawl,
 * transform to Parquet, load into the DuckDB warehouse); the Parquet that local transform wrote for it
 * is then what each COPY of load.sql stages on PostgreSQL. Both warehouses are read back in one text
 * form (every value as its SQL text, NULL as null, wall-clock and run-id columns left out), so the
 * two merges can be compared row for row.
 */
import type { Client } from 'pg';
import { VOLATILE_COLUMNS, WAREHOUSE_TABLES } from '../../../src/activities/local';
import type { Layer } from '../../../src/activities/local/lake';
import type { WarehouseTable } from '../../../src/activities/local/schema';
import { readBatchManifest } from '../../../src/activities/local/batch-manifest';
import { ENTITIES } from '../../../src/shared/contract';
import type { LocalTestBackend } from '../../local/support';
import type { CopyTarget } from './sql';
import { SCHEMA, runLoad, tableColumns } from './warehouse';

export type TextRow = Record<string, string | null>;

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The rows `COPY <copy.table> FROM '<processed>/<copy.source>/batch_date=D/'` would stage, from the local lake. */
export async function localStagingRows(a: LocalTestBackend, runDate: string, copy: CopyTarget, columns: string[]): Promise<TextRow[]> {
  const lake = a.engine.lake;
  if (copy.source === 'gold/load_metrics') {
    // the Glue job writes its counts as a Parquet row; the local transform keeps them in its manifest
    const manifest = readBatchManifest(lake, runDate);
    if (!manifest) throw new Error(`no local transform manifest for ${runDate}`);
    const m = manifest.metrics;
    const row: TextRow = {
      batch_date: runDate,
      etl_run_id: manifest.etlRunId,
      orders_revenue: String(m['orders.revenue'] ?? 0),
      transform_started_ms: String(Date.parse(manifest.startedAt)),
      transform_finished_ms: String(Date.parse(manifest.finishedAt)),
    };
    for (const e of ENTITIES)
      for (const kind of ['read', 'loaded', 'rejected', 'duplicates']) row[`${e}_${kind}`] = String(Math.round(m[`${e}.${kind}`] ?? 0));
    const missing = columns.filter((c) => !(c in row));
    if (missing.length) throw new Error(`stg_load_metrics columns the manifest does not give: ${missing}`);
    return [Object.fromEntries(columns.map((c) => [c, row[c]]))];
  }
  const [layer, table] = copy.source.split('/') as [Layer, string];
  const files = lake.parquetFiles(lake.tableDir(layer, table, runDate));
  if (files.length === 0) return [];
  const select = columns.map((c) => `CAST("${c}" AS VARCHAR) AS "${c}"`).join(', ');
  const rows = await a.engine.query(`SELECT ${select} FROM read_parquet([${files.map(quote).join(', ')}], union_by_name = true)`);
  return rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] === null || r[c] === undefined ? null : String(r[c])])));
}

/** load.sql for one date on PostgreSQL, every COPY staging what the local transform wrote for that date. */
export async function loadFromLocalLake(db: Client, a: LocalTestBackend, runDate: string): Promise<void> {
  await runLoad(db, runDate, async (copy) => {
    const columns = await tableColumns(db, copy.table);
    const rows = await localStagingRows(a, runDate, copy, columns);
    const params = columns.map((_, i) => `$${i + 1}`).join(', ');
    for (const row of rows) {
      await db.query(
        `INSERT INTO ${SCHEMA}.${copy.table} (${columns.join(', ')}) VALUES (${params})`,
        columns.map((c) => row[c]),
      );
    }
  });
}

/** The columns both warehouses compare for a table: the local ones, volatile ones and those Redshift lacks aside. */
async function comparedColumns(db: Client, a: LocalTestBackend, table: WarehouseTable): Promise<string[]> {
  const redshift = await tableColumns(db, table);
  const local = (await a.engine.query(`DESCRIBE analytics.${table}`)).map((r) => String(r.column_name));
  return local.filter((c) => !VOLATILE_COLUMNS[table].includes(c) && redshift.includes(c));
}

const sortRows = (rows: TextRow[]) => rows.sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));

/** Every warehouse table of both sides, as sorted text rows over the compared columns. */
export async function bothWarehouses(
  db: Client,
  a: LocalTestBackend,
): Promise<{ local: Record<string, TextRow[]>; redshift: Record<string, TextRow[]> }> {
  const local: Record<string, TextRow[]> = {};
  const redshift: Record<string, TextRow[]> = {};
  for (const table of WAREHOUSE_TABLES) {
    const columns = await comparedColumns(db, a, table);
    if (columns.length < 2) throw new Error(`${table}: too few columns to compare (${columns})`);
    const duck = await a.engine.query(
      `SELECT ${columns.map((c) => `CAST("${c}" AS VARCHAR) AS "${c}"`).join(', ')} FROM analytics.${table}`,
    );
    local[table] = sortRows(
      duck.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] === null || r[c] === undefined ? null : String(r[c])]))),
    );
    const pg = await db.query(`SELECT ${columns.map((c) => `CAST(${c} AS TEXT) AS ${c}`).join(', ')} FROM ${SCHEMA}.${table}`);
    redshift[table] = sortRows(pg.rows as TextRow[]);
  }
  return { local, redshift };
}
