/**
 * The quality gate's measurements as SQL over a batch's bronze rows. Every ratio counts all of the
 * entity's bronze rows in its denominator, so a batch of garbage cannot pass by having few
 * measurable rows:
 * - completeness: rows whose required fields are all present (non-blank);
 * - validity: rows that pass checks 0-4 of the reject rules (malformed line, key, dates, numbers, ranges);
 * - key_uniqueness: 1 - (distinct valid records sharing a key with another, beyond the first);
 *   exact copies are one record, as in the transform (compared by a hash of their raw values);
 * - referential_consistency (orders): rows whose customer and product exist in this batch's valid
 *   rows or in an earlier batch's dimension.
 */
import type { Entity } from '../../shared/contract';
import { ENTITIES } from '../../shared/contract';
import type { QualityMeasurement, QualityResult, QualityThresholds } from '../../shared/quality';
import { judge } from '../../shared/quality';
import type { ResultPage } from '../types';
import type { Lake } from './lake';
import type { Sql } from './warehouse';
import { listLit } from './warehouse';
import { keyColumn, present, rawHash, reasonExpr, requiredColumns, typedColumns } from './rules';
import { knownKeysSql, syncDimensionKeys } from './references';

export const QUALITY_COLUMNS: ResultPage['columns'] = [
  { name: 'entity', type: 'varchar' },
  { name: 'check', type: 'varchar' },
  { name: 'value', type: 'double' },
  { name: 'threshold', type: 'double' },
  { name: 'passed', type: 'boolean' },
];

export function bronzeFiles(lake: Lake, entity: Entity, runDate: string): string[] {
  return lake.parquetFiles(lake.tableDir('bronze', entity, runDate));
}

/** Bronze rows with their reason (checks 0-4), typed key, completeness and raw-value hash. */
export function checkedBronze(entity: Entity, bronze: string): string {
  const complete = requiredColumns(entity).map(present).join(' AND ');
  return `(SELECT *, ${reasonExpr(entity)} AS reason, ${keyColumn(entity)} AS k, (${complete}) AS complete, ${rawHash(entity)} AS h
           FROM (SELECT *, ${typedColumns(entity)} FROM ${bronze}))`;
}

/**
 * A batch's bronze Parquet as one relation. Bronze written before malformed rows were kept has no
 * `malformed_line` column; it reads as NULL there, so such a batch can still be validated and
 * transformed without a new catalog run.
 */
export async function bronzeRelation(db: Sql, files: string[]): Promise<string> {
  const scan = `read_parquet(${listLit(files)}, union_by_name=true)`;
  if (files.length === 0) return scan;
  const columns = await db.all(`DESCRIBE SELECT * FROM ${scan}`);
  return columns.some((c) => c.column_name === 'malformed_line') ? scan : `(SELECT *, NULL::VARCHAR AS malformed_line FROM ${scan})`;
}

/** Materialises the narrow per-row facts the measurements need as temp table q_<entity>. */
async function checkRows(db: Sql, entity: Entity, bronze: string): Promise<void> {
  await db.run(`CREATE OR REPLACE TEMP TABLE q_${entity} AS SELECT reason IS NULL AS valid, complete, k, h FROM ${checkedBronze(entity, bronze)}`);
}

async function measureEntity(db: Sql, lake: Lake, entity: Entity, runDate: string, bronze: string): Promise<QualityMeasurement[]> {
  const q = `q_${entity}`;
  const base = await db.one(`
    SELECT count(*) AS n,
           count(*) FILTER (WHERE complete) AS complete_rows,
           count(*) FILTER (WHERE valid) AS valid_rows,
           (SELECT coalesce(sum(d - 1), 0) FROM (
              SELECT count(DISTINCT h) AS d FROM ${q} WHERE valid GROUP BY k HAVING count(*) > 1)) AS conflicts
    FROM ${q}`);
  const n = Number(base.n);
  const share = (x: number) => (n === 0 ? 0 : x / n);
  const out: QualityMeasurement[] = [
    { entity, check: 'row_count', value: n },
    { entity, check: 'completeness', value: share(Number(base.complete_rows)) },
    { entity, check: 'validity', value: share(Number(base.valid_rows)) },
    { entity, check: 'key_uniqueness', value: n === 0 ? 0 : 1 - Number(base.conflicts) / n },
  ];
  if (entity === 'orders') {
    await syncDimensionKeys(db, lake, 'customers');
    await syncDimensionKeys(db, lake, 'products');
    const ref = await db.one(`
      WITH kc AS (SELECT k FROM q_customers WHERE valid UNION ${knownKeysSql('customers', runDate)}),
           kp AS (SELECT k FROM q_products WHERE valid UNION ${knownKeysSql('products', runDate)})
      SELECT count(*) AS consistent
      FROM (SELECT TRY_CAST(customer_id AS BIGINT) AS c, TRY_CAST(product_id AS BIGINT) AS p FROM ${bronze})
      WHERE c IN (SELECT k FROM kc) AND p IN (SELECT k FROM kp)`);
    out.push({ entity, check: 'referential_consistency', value: share(Number(ref.consistent)) });
  }
  return out;
}

/** Measures, judges and records the batch's quality report; returns it in result-page order. */
export async function runQualityChecks(
  db: Sql,
  lake: Lake,
  runDate: string,
  thresholds: QualityThresholds,
  queryId: string,
  onEntity?: (done: number) => void,
): Promise<QualityResult[]> {
  const bronze = {} as Record<Entity, string>;
  for (const entity of ENTITIES) bronze[entity] = await bronzeRelation(db, bronzeFiles(lake, entity, runDate));
  const results: QualityResult[] = [];
  try {
    for (const entity of ENTITIES) await checkRows(db, entity, bronze[entity]);
    for (const [i, entity] of ENTITIES.entries()) {
      for (const m of await measureEntity(db, lake, entity, runDate, bronze[entity])) {
        results.push(judge({ ...m, value: Math.round(m.value * 1e6) / 1e6 }, thresholds));
      }
      onEntity?.(i + 1);
    }
  } finally {
    for (const entity of ENTITIES) await db.run(`DROP TABLE IF EXISTS q_${entity}`);
  }
  await db.run('BEGIN TRANSACTION');
  try {
    await db.run('DELETE FROM analytics.quality_reports WHERE run_date = $1::DATE', [runDate]);
    for (const r of results) {
      await db.run('INSERT INTO analytics.quality_reports VALUES ($1::DATE, $2, $3, $4, $5, $6, $7, now()::TIMESTAMP)', [
        runDate,
        r.entity,
        r.check,
        r.value,
        r.threshold,
        r.passed,
        queryId,
      ]);
    }
    await db.run('COMMIT');
  } catch (err) {
    await db.run('ROLLBACK');
    throw err;
  }
  return results;
}

export function qualityPage(results: QualityResult[]): ResultPage {
  return { columns: QUALITY_COLUMNS, rows: results.map((r) => [r.entity, r.check, r.value, r.threshold, r.passed]) };
}
