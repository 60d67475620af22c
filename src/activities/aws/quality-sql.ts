/**
 * The validate stage's quality checks as one Athena (Trino) query over the crawled raw tables,
 * filtered to the run's partition. Raw values are read as text and judged by the data contract's
 * rules, so what the crawler guessed a column's type to be does not matter.
 * Result columns: entity, check, value, threshold, passed (what src/shared/results.ts reads).
 */
import type { ColumnSpec, Entity } from '../../shared/contract';
import { COLUMNS, ENTITIES, KEY_COLUMN, isIsoDate } from '../../shared/contract';
import type { QualityCheck, QualityThresholds } from '../../shared/quality';
import { thresholdFor } from '../../shared/quality';
import { badConfig } from '../errors';

/** Column the crawler gives the date folder of raw/{entity}/{date}/ (not a key=value folder). */
export const PARTITION_COLUMN = 'partition_0';

const IDENTIFIER = /^[A-Za-z0-9_-]{1,255}$/;

const text = (col: string) => `NULLIF(trim(CAST("${col}" AS varchar)), '')`;

function typeRule(c: ColumnSpec): string {
  const v = text(c.name);
  switch (c.type) {
    case 'integer':
      return `regexp_like(${v}, '^[+-]?[0-9]+$')`;
    case 'decimal':
      return `TRY_CAST(${v} AS double) IS NOT NULL`;
    case 'date':
      return `(regexp_like(${v}, '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') AND TRY_CAST(${v} AS date) IS NOT NULL)`;
    case 'text':
      return 'true';
  }
}

const RANGE_RULES: Record<Entity, string[]> = {
  customers: [],
  products: [`TRY_CAST(${text('price')} AS double) >= 0`],
  orders: [
    `TRY_CAST(${text('order_amount')} AS double) > 0`,
    `TRY_CAST(${text('quantity')} AS bigint) > 0`,
    `(${text('delivery_date')} IS NULL OR TRY_CAST(${text('delivery_date')} AS date) >= TRY_CAST(${text('order_date')} AS date))`,
  ],
};

function entityStats(entity: Entity, table: string, runDate: string): string {
  const cols = COLUMNS[entity];
  const complete = cols.filter((c) => c.required).map((c) => `${text(c.name)} IS NOT NULL`).join(' AND ');
  const valid = [
    ...cols.map((c) => `(${text(c.name)} IS NULL OR ${typeRule(c)})`),
    ...RANGE_RULES[entity].map((r) => `COALESCE(${r}, false)`),
  ].join('\n      AND ');
  const key = text(KEY_COLUMN[entity]);
  const record = `concat_ws('\u001f', ${cols.map((c) => `COALESCE(${text(c.name)}, '')`).join(', ')})`;
  // Key uniqueness: exact duplicate rows collapse first; a key held by distinct records conflicts.
  return `${entity}_rows AS (
    SELECT ${key} AS k, ${record} AS rec,
      (${complete}) AS complete,
      (${valid}) AS valid
    FROM ${table}
    WHERE ${PARTITION_COLUMN} = '${runDate}'
  ),
  ${entity}_keys AS (
    SELECT k, count(DISTINCT rec) AS versions FROM ${entity}_rows WHERE k IS NOT NULL GROUP BY k
  ),
  ${entity}_stats AS (
    SELECT
      (SELECT count(*) FROM ${entity}_rows) AS n,
      (SELECT count_if(complete) FROM ${entity}_rows) AS n_complete,
      (SELECT count_if(valid) FROM ${entity}_rows) AS n_valid,
      (SELECT count(*) FROM ${entity}_keys) AS n_keys,
      (SELECT count_if(versions = 1) FROM ${entity}_keys) AS n_unique_keys
  )`;
}

function checkRow(entity: Entity, check: QualityCheck, value: string, t: QualityThresholds): string {
  const threshold = thresholdFor(check, t);
  if (!Number.isFinite(threshold)) throw badConfig(`quality threshold for ${check} is not a number: ${threshold}`);
  return `SELECT '${entity}' AS entity, '${check}' AS "check", CAST(${value} AS double) AS value, CAST(${threshold} AS double) AS threshold, (${value}) >= ${threshold} AS passed FROM ${entity}_stats`;
}

/** 1 when nothing was measured: an empty batch fails row_count, not every ratio at once. */
const ratio = (num: string, den: string) => `(CASE WHEN ${den} = 0 THEN 1.0 ELSE CAST(${num} AS double) / ${den} END)`;

export function qualityChecksSql(database: string, runDate: string, t: QualityThresholds): string {
  if (!IDENTIFIER.test(database)) throw badConfig(`Glue database name ${JSON.stringify(database)} is not a plain identifier`);
  if (!isIsoDate(runDate)) throw badConfig(`run date ${JSON.stringify(runDate)} is not an ISO date (YYYY-MM-DD)`);
  const table = (e: Entity) => `"${database}"."${e}"`;
  const ctes = ENTITIES.map((e) => entityStats(e, table(e), runDate));
  const cust = text('customer_id');
  const prod = text('product_id');
  // An order refers to a customer and product crawled on or before its batch date.
  ctes.push(`orders_refs AS (
    SELECT
      count(*) AS n,
      count_if(
        ${cust} IN (SELECT ${text('customer_id')} FROM ${table('customers')} WHERE ${PARTITION_COLUMN} <= '${runDate}')
        AND ${prod} IN (SELECT ${text('product_id')} FROM ${table('products')} WHERE ${PARTITION_COLUMN} <= '${runDate}')
      ) AS n_found
    FROM ${table('orders')}
    WHERE ${PARTITION_COLUMN} = '${runDate}'
  )`);
  const rows: string[] = [];
  for (const e of ENTITIES) {
    rows.push(checkRow(e, 'row_count', 'n', t));
    rows.push(checkRow(e, 'completeness', ratio('n_complete', 'n'), t));
    rows.push(checkRow(e, 'validity', ratio('n_valid', 'n'), t));
    rows.push(checkRow(e, 'key_uniqueness', ratio('n_unique_keys', 'n_keys'), t));
  }
  rows.push(checkRow('orders', 'referential_consistency', ratio('n_found', 'n'), t).replace('FROM orders_stats', 'FROM orders_refs'));
  return `WITH\n  ${ctes.join(',\n  ')}\n${rows.join('\nUNION ALL\n')}`;
}
