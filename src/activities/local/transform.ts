/**
 * The transform stage: one batch's bronze rows -> silver (cleaned, typed, with lineage), rejects (the
 * first failing reason, with the raw record) and gold (dimensions, facts, the batch's daily sales),
 * each written as Parquet under `processed/{layer}/{table}/batch_date=D/`. All set-based SQL.
 *
 * Order of work per entity, as the data contract says: exact duplicates (identical raw values of the
 * contract's columns) collapse onto their last copy and are counted; checks 1-4 give a reason; among
 * rows still without one, a key seen more than once keeps only its last row in file order
 * (duplicate_key); orders then check their customer and product against the dimensions as they are
 * after this batch (unknown_customer, unknown_product).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Entity } from '../../shared/contract';
import { ENTITIES, KEY_COLUMN } from '../../shared/contract';
import { missingResource } from '../errors';
import type { SourceInfo } from './catalog';
import { catalogedSources } from './catalog';
import type { Lake } from './lake';
import { columnNames, rawHash, reasonExpr, typedAsContract, typedColumns } from './rules';
import { knownKeysSql, syncDimensionKeys } from './references';
import { dailySalesSelect } from './sales';
import { bronzeFiles, bronzeRelation } from './quality';
import type { Sql } from './warehouse';
import { ident, lit } from './warehouse';

export const GOLD_TABLES = { customers: 'dim_customers', products: 'dim_products', orders: 'fact_orders' } as const;

/** Lineage packed in one sortable number: later file, then later row, is larger. */
const ORD_SCALE = 10_000_000_000;

export interface TransformOutput {
  runDate: string;
  etlRunId: string;
  metrics: Record<string, number>;
  /** Published batch folders, by `${layer}/${table}`. */
  folders: Record<string, string>;
  startedAt: string;
  finishedAt: string;
}

const PARQUET = '(FORMAT parquet, COMPRESSION snappy)';

/**
 * The raw record as JSON: each header name of the row's source with its value ('' for none); a
 * malformed line, which has no fields to name, as `{"line": <its text>}`.
 */
function rawRecordExpr(entity: Entity, sources: SourceInfo[]): string {
  const contract = new Set(columnNames(entity));
  if (sources.length === 0) return `'{}'`;
  const arms = sources.map((s) => {
    const pairs = s.header
      .filter((h) => h !== '')
      .map((h) => `${lit(h)}, coalesce(${contract.has(h) ? `b.${ident(h)}` : `b.extra[${lit(h)}]`}, '')`);
    return `WHEN ${s.seq} THEN json_object(${pairs.join(', ')})::VARCHAR`;
  });
  return `CASE WHEN b.malformed_line IS NOT NULL THEN json_object('line', b.malformed_line)::VARCHAR ELSE CASE (c.ord // ${ORD_SCALE}) ${arms.join(' ')} END END`;
}

function sourceFileExpr(sources: SourceInfo[], ord = 'ord'): string {
  if (sources.length === 0) return 'NULL::VARCHAR';
  return `CASE (${ord} // ${ORD_SCALE}) ${sources.map((s) => `WHEN ${s.seq} THEN ${lit(s.sourceFile)}`).join(' ')} END`;
}

/** Bronze rows with `ord`, the lineage packed in one sortable number. */
function bronzeWithOrd(bronze: string): string {
  return `(SELECT *, source_seq::BIGINT * ${ORD_SCALE} + source_row AS ord FROM ${bronze})`;
}

/**
 * Builds temp tables dropped_<entity> (ords of exact copies collapsed onto a later copy) and
 * chk_<entity> (one row per remaining record: ord, typed contract columns, reason of checks 1-5).
 * Exact copies are found by hash first, then confirmed on the raw values themselves.
 */
async function checkEntity(db: Sql, entity: Entity, relation: string): Promise<void> {
  const bronze = bronzeWithOrd(relation);
  const rawCols = [...columnNames(entity), 'malformed_line'].map(ident).join(', ');
  await db.run(`
    CREATE OR REPLACE TEMP TABLE dropped_${entity} AS
    SELECT ord FROM (
      SELECT ord, max(ord) OVER (PARTITION BY ${rawCols}) AS kept
      FROM ${bronze}
      WHERE ${rawHash(entity)} IN (SELECT h FROM (SELECT ${rawHash(entity)} AS h FROM ${relation}) GROUP BY h HAVING count(*) > 1))
    WHERE ord <> kept`);
  await db.run(`
    CREATE OR REPLACE TEMP TABLE chk_${entity} AS
    SELECT ord, ${typedAsContract(entity)}, ${reasonExpr(entity)} AS reason
    FROM (SELECT *, ${typedColumns(entity)} FROM ${bronze} WHERE ord NOT IN (SELECT ord FROM dropped_${entity}))`);
  const key = ident(KEY_COLUMN[entity]);
  // duplicate_key: among rows still without a reason, the last in file order keeps the key.
  await db.run(`
    UPDATE chk_${entity} SET reason = 'duplicate_key'
    FROM (SELECT ${key} AS k, max(ord) AS last FROM chk_${entity} WHERE reason IS NULL GROUP BY ${key} HAVING count(*) > 1) d
    WHERE chk_${entity}.reason IS NULL AND chk_${entity}.${key} = d.k AND chk_${entity}.ord <> d.last`);
}

/** Gives unknown_customer, then unknown_product, to orders that passed checks 1-5. */
async function checkReferences(db: Sql, lake: Lake, runDate: string): Promise<void> {
  const refs = [
    ['customers', 'customer_id', 'unknown_customer'],
    ['products', 'product_id', 'unknown_product'],
  ] as const;
  for (const [entity, key, reason] of refs) {
    await syncDimensionKeys(db, lake, entity);
    await db.run(`CREATE OR REPLACE TEMP TABLE known_${entity} AS
      SELECT DISTINCT k FROM (SELECT ${key} AS k FROM chk_${entity} WHERE reason IS NULL UNION ALL ${knownKeysSql(entity, runDate)}) WHERE k IS NOT NULL`);
    await db.run(`UPDATE chk_orders SET reason = '${reason}' WHERE reason IS NULL AND ${key} NOT IN (SELECT k FROM known_${entity})`);
    await db.run(`DROP TABLE known_${entity}`);
  }
}

export interface TransformHooks {
  progress?: (fraction: number) => void;
  checkCancelled?: () => void;
}

export async function transformBatch(db: Sql, lake: Lake, runDate: string, etlRunId: string, hooks: TransformHooks = {}): Promise<TransformOutput> {
  const startedAt = new Date().toISOString();
  const step = (fraction: number) => {
    hooks.checkCancelled?.();
    hooks.progress?.(fraction);
  };
  const sources = {} as Record<Entity, SourceInfo[]>;
  for (const entity of ENTITIES) {
    const found = await catalogedSources(db, entity, runDate);
    if (!found) throw missingResource(`no catalog of ${entity} for ${runDate}: run the catalog stage for this date first`);
    sources[entity] = found;
  }
  const staging = lake.stagingDir(etlRunId);
  const staged: Record<string, string> = {};
  const out = (layer: string, table: string) => {
    const dir = path.join(staging, layer, table);
    staged[`${layer}/${table}`] = dir;
    return path.join(dir, 'part-00000.parquet');
  };
  const copy = async (select: string, layer: string, table: string) => {
    const file = out(layer, table);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await db.run(`COPY (${select}) TO ${lit(file)} ${PARQUET}`);
  };

  const metrics: Record<string, number> = {};
  const bronze = {} as Record<Entity, string>;
  try {
    for (const [i, entity] of ENTITIES.entries()) {
      const files = bronzeFiles(lake, entity, runDate);
      if (files.length === 0) throw missingResource(`no bronze Parquet of ${entity} for ${runDate} in ${lake.tableDir('bronze', entity, runDate)}: run the catalog stage again`);
      bronze[entity] = await bronzeRelation(db, files);
      await checkEntity(db, entity, bronze[entity]);
      step(0.1 + 0.2 * i);
    }
    await checkReferences(db, lake, runDate);
    step(0.65);

    const batch = `${lit(runDate)}::DATE`;
    for (const entity of ENTITIES) {
      const chk = `chk_${entity}`;
      const counts = await db.one(`SELECT count(*) FILTER (WHERE reason IS NULL) AS loaded, count(*) FILTER (WHERE reason IS NOT NULL) AS rejected,
          (SELECT count(*) FROM dropped_${entity}) AS duplicates FROM ${chk}`);
      const [loaded, rejected, duplicates] = [Number(counts.loaded), Number(counts.rejected), Number(counts.duplicates)];
      Object.assign(metrics, {
        [`${entity}.read`]: loaded + rejected + duplicates,
        [`${entity}.loaded`]: loaded,
        [`${entity}.rejected`]: rejected,
        [`${entity}.duplicates`]: duplicates,
      });
      const contract = columnNames(entity).map(ident).join(', ');
      await copy(
        `SELECT ${contract}, ${sourceFileExpr(sources[entity])} AS source_file, (ord % ${ORD_SCALE})::BIGINT AS source_row, ${batch} AS batch_date
         FROM ${chk} WHERE reason IS NULL`,
        'silver',
        entity,
      );
      await copy(`SELECT ${contract}, ${batch} AS batch_date FROM ${chk} WHERE reason IS NULL`, 'gold', GOLD_TABLES[entity]);
      // Only rejected rows go back to bronze for their raw values, so this join stays small.
      await copy(
        `SELECT ${batch} AS batch_date, ${lit(entity)} AS entity, ${sourceFileExpr(sources[entity], 'c.ord')} AS source_file,
           (c.ord % ${ORD_SCALE})::BIGINT AS row_number, c.reason, ${rawRecordExpr(entity, sources[entity])} AS raw_record
         FROM ${chk} c JOIN ${bronzeWithOrd(bronze[entity])} b ON b.ord = c.ord
         WHERE c.reason IS NOT NULL ORDER BY c.ord`,
        'rejects',
        entity,
      );
      step(0.75 + 0.07 * ENTITIES.indexOf(entity));
    }
    await copy(`SELECT *, ${batch} AS batch_date FROM (${dailySalesSelect('chk_orders', 'reason IS NULL')})`, 'gold', 'agg_daily_sales');
    const revenue = await db.one('SELECT coalesce(sum(order_amount), 0)::DECIMAL(18,2)::VARCHAR AS revenue FROM chk_orders WHERE reason IS NULL');
    metrics['orders.revenue'] = Number(revenue.revenue);
  } catch (err) {
    // A failed run leaves nothing staged to fill the disk.
    fs.rmSync(staging, { recursive: true, force: true });
    throw err;
  } finally {
    for (const entity of ENTITIES) {
      await db.run(`DROP TABLE IF EXISTS chk_${entity}`);
      await db.run(`DROP TABLE IF EXISTS dropped_${entity}`);
    }
  }

  // Silver and rejects first, gold last: a later batch's reference check reads gold dimensions.
  const folders: Record<string, string> = {};
  const order = Object.keys(staged).sort((a, b) => Number(a.startsWith('gold/')) - Number(b.startsWith('gold/')));
  for (const key of order) {
    const [layer, table] = key.split('/') as ['silver' | 'gold' | 'rejects', string];
    const target = lake.tableDir(layer, table, runDate);
    lake.publish(staged[key], target);
    folders[key] = target;
  }
  fs.rmSync(staging, { recursive: true, force: true });
  const output: TransformOutput = { runDate, etlRunId, metrics, folders, startedAt, finishedAt: new Date().toISOString() };
  // Written last: the load reads it to know which run produced the batch's Parquet and its counts.
  writeBatchManifest(lake, output);
  return output;
}

export function manifestPath(lake: Lake, runDate: string): string {
  return path.join(lake.root, 'processed', '_metrics', `batch_date=${runDate}`, 'metrics.json');
}

function writeBatchManifest(lake: Lake, output: TransformOutput): void {
  const file = manifestPath(lake, output.runDate);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(output, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

/** The manifest of the batch's published Parquet, or undefined when no transform finished for it. */
export function readBatchManifest(lake: Lake, runDate: string): TransformOutput | undefined {
  try {
    return JSON.parse(fs.readFileSync(manifestPath(lake, runDate), 'utf8')) as TransformOutput;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
