/**
 * The load and verify stages over the warehouse file.
 *
 * Load merges one batch's gold and rejects Parquet in ONE transaction, so a failure leaves every
 * table as it was. Idempotency rules, per keyed table (dimensions and facts):
 * - rows this batch loaded before are replaced (a rerun with the same files changes nothing but
 *   timestamps), and rows this batch no longer holds are removed;
 * - rows of EARLIER batches with a key of this batch are replaced (a later batch wins);
 * - rows of LATER batches are left alone, and this batch's row for that key is skipped.
 * The batch's rejects and audit row replace the previous ones. Then the marts (src/rules/marts.ts):
 * daily sales and product performance are recomputed for every order_date the batch adds rows to or
 * takes rows away from, customer analytics whole, as of the latest batch date loaded.
 */
import { ENTITIES } from '../../shared/contract';
import type { ResultPage } from '../types';
import { badConfig, missingResource } from '../errors';
import type { Lake } from './lake';
import { columnNames } from '../../rules/verdicts';
import { warehouseRefresh } from './sales';
import { GOLD_MARTS } from '../../rules/marts';
import type { TransformOutput } from './batch-manifest';
import { GOLD_TABLES, readBatchManifest } from './batch-manifest';
import type { Sql } from './warehouse';
import { ident, listLit, lit } from './warehouse';

export interface LoadHooks {
  progress?: (fraction: number) => void;
  checkCancelled?: () => void;
}

export interface LoadResult {
  rowsAffected: number;
  metrics: Record<string, number>;
}

const KEYED = [
  { entity: 'customers', table: 'dim_customers', key: 'customer_id', stamp: 'last_updated' },
  { entity: 'products', table: 'dim_products', key: 'product_id', stamp: 'last_updated' },
  { entity: 'orders', table: 'fact_orders', key: 'order_id', stamp: 'last_updated' },
] as const;

function manifestFor(lake: Lake, runDate: string, etlRunId: string | undefined): TransformOutput {
  const manifest = readBatchManifest(lake, runDate);
  if (!manifest) throw missingResource(`no transformed batch for ${runDate} in ${lake.root}/processed: run the transform stage first`);
  if (etlRunId && manifest.etlRunId !== etlRunId) {
    throw badConfig(
      `the lake's batch ${runDate} was written by ETL run ${manifest.etlRunId}, not ${etlRunId}: a later transform replaced it; load that run instead`,
    );
  }
  return manifest;
}

function goldFiles(lake: Lake, table: string, runDate: string): string[] {
  return lake.parquetFiles(lake.tableDir('gold', table, runDate));
}

export async function loadBatch(
  db: Sql,
  lake: Lake,
  input: { runDate: string; etlRunId?: string; statementId: string; workflowId: string },
  hooks: LoadHooks = {},
): Promise<LoadResult> {
  const started = Date.now();
  const { runDate } = input;
  const manifest = manifestFor(lake, runDate, input.etlRunId);
  const batch = `${lit(runDate)}::DATE`;
  let statements = 0;
  const exec = async (sql: string) => {
    hooks.checkCancelled?.();
    statements++;
    return db.run(sql);
  };
  const metrics: Record<string, number> = {};
  let rowsAffected = 0;

  await db.run('BEGIN TRANSACTION');
  try {
    // Staged relations read the batch's Parquet where they are; nothing is copied before the merge.
    const staged: Record<string, string> = {};
    for (const k of KEYED) {
      const files = goldFiles(lake, k.table, runDate);
      if (files.length === 0)
        throw missingResource(`no gold ${k.table} Parquet for ${runDate} in ${lake.tableDir('gold', k.table, runDate)}`);
      staged[k.table] = `read_parquet(${listLit(files)})`;
    }
    const rejectFiles = ENTITIES.flatMap((e) => lake.parquetFiles(lake.tableDir('rejects', e, runDate)));
    const stagedRejects = rejectFiles.length
      ? `read_parquet(${listLit(rejectFiles)}, union_by_name=true)`
      : '(SELECT * FROM analytics.rejects LIMIT 0)';
    // Dates whose totals may change: where this batch's old rows, the rows it replaces, and its new rows fall.
    await exec(`CREATE OR REPLACE TEMP TABLE affected_dates AS
      SELECT order_date FROM analytics.fact_orders WHERE batch_date = ${batch}
      UNION SELECT f.order_date FROM analytics.fact_orders f JOIN ${staged.fact_orders} s USING (order_id) WHERE f.batch_date < ${batch}
      UNION SELECT order_date FROM ${staged.fact_orders}`);
    hooks.progress?.(0.2);

    for (const [i, k] of KEYED.entries()) {
      const cols = [...columnNames(k.entity), 'batch_date'].map(ident).join(', ');
      const key = ident(k.key);
      const stg = staged[k.table];
      // Two deletes, not one with OR: the OR makes DuckDB hash every staged key even when no earlier
      // batch's row could match (0.3 s at 10M orders); alone, the earlier-batch semi-join starts from the
      // (usually far smaller) filtered side.
      const deleted =
        (await exec(`DELETE FROM analytics.${k.table} WHERE batch_date = ${batch}`)) +
        (await exec(`DELETE FROM analytics.${k.table} WHERE batch_date < ${batch} AND ${key} IN (SELECT ${key} FROM ${stg})`));
      const inserted = await exec(`INSERT INTO analytics.${k.table} (${cols}, ${k.stamp})
        SELECT ${cols}, now()::TIMESTAMP FROM ${stg} AS s
        WHERE NOT EXISTS (SELECT 1 FROM analytics.${k.table} t WHERE t.${key} = s.${key})`);
      metrics[`${k.table}.deleted`] = deleted;
      metrics[`${k.table}.inserted`] = inserted;
      metrics[`${k.table}.skippedNewer`] = Number(manifest.metrics[`${k.entity}.loaded`] ?? 0) - inserted;
      rowsAffected += inserted;
      hooks.progress?.(0.2 + 0.2 * (i + 1));
    }

    await exec(`DELETE FROM analytics.rejects WHERE batch_date = ${batch}`);
    const rejects = await exec(`INSERT INTO analytics.rejects (batch_date, entity, source_file, row_number, reason, raw_record, loaded_at)
      SELECT batch_date, entity, source_file, row_number, reason, raw_record, now()::TIMESTAMP FROM ${stagedRejects}`);
    metrics['rejects.inserted'] = rejects;
    rowsAffected += rejects;

    const m = manifest.metrics;
    const counts = ENTITIES.flatMap((e) =>
      ['read', 'loaded', 'rejected', 'duplicates'].map((kind) => String(Math.round(m[`${e}.${kind}`] ?? 0))),
    );
    const transformMs = Date.parse(manifest.finishedAt) - Date.parse(manifest.startedAt);
    await exec(`DELETE FROM analytics.load_audit WHERE batch_date = ${batch}`);
    await exec(`INSERT INTO analytics.load_audit VALUES (${batch}, ${lit(manifest.etlRunId)}, ${lit(input.statementId)}, ${lit(input.workflowId)},
      ${counts.join(', ')}, ${lit(String(m['orders.revenue'] ?? 0))}::DECIMAL(18,2), ${transformMs}, ${Date.now() - started}, now()::TIMESTAMP)`);
    hooks.progress?.(0.9);

    // A batch alone on its dates (a day's usual case) has its marts there already, in gold.
    const martFiles = GOLD_MARTS.map((m) => goldFiles(lake, m.table, runDate));
    const aloneOnDates = async () =>
      Number(
        (
          await db.one(`SELECT count(*) AS n FROM analytics.fact_orders
          WHERE batch_date <> ${batch} AND order_date IN (SELECT order_date FROM affected_dates)`)
        ).n,
      ) === 0;
    const alone = metrics['fact_orders.skippedNewer'] === 0 && martFiles.every((f) => f.length > 0) && (await aloneOnDates());
    const batchMarts = alone
      ? Object.fromEntries(GOLD_MARTS.map((m, i) => [m.table, `read_parquet(${listLit(martFiles[i])})`]))
      : undefined;
    metrics['marts.fromGold'] = alone ? 1 : 0;
    // After the audit row: customer analytics is as of the latest batch date it holds.
    for (const statement of warehouseRefresh(batchMarts)) await exec(statement);
    const dates = await db.one('SELECT count(*) AS n FROM affected_dates');
    metrics['agg_daily_sales.recomputedDates'] = Number(dates.n);
    await db.run('COMMIT');
  } catch (err) {
    await db.run('ROLLBACK');
    throw err;
  }
  metrics.statements = statements;
  metrics.durationMs = Date.now() - started;
  return { rowsAffected, metrics };
}

export const VERIFY_COLUMNS: ResultPage['columns'] = [
  { name: 'entity', type: 'varchar' },
  { name: 'warehouse_rows', type: 'bigint' },
  { name: 'superseded_rows', type: 'bigint' },
  { name: 'revenue', type: 'decimal(18,2)' },
];

/** One row per entity: the batch's rows in the warehouse, those a later batch replaced, revenue. */
export async function verifyBatch(db: Sql, lake: Lake, runDate: string): Promise<ResultPage> {
  const batch = `${lit(runDate)}::DATE`;
  const rows: ResultPage['rows'] = [];
  for (const k of KEYED) {
    const files = goldFiles(lake, GOLD_TABLES[k.entity], runDate);
    const key = ident(k.key);
    const superseded = files.length
      ? `(SELECT count(*) FROM read_parquet(${listLit(files)}) s JOIN analytics.${k.table} t ON t.${key} = s.${key} WHERE t.batch_date > ${batch})`
      : '0';
    const revenue =
      k.entity === 'orders'
        ? `(SELECT coalesce(sum(order_amount), 0)::DECIMAL(18,2)::VARCHAR FROM analytics.fact_orders WHERE batch_date = ${batch})`
        : 'NULL';
    const r = await db.one(`SELECT (SELECT count(*) FROM analytics.${k.table} WHERE batch_date = ${batch}) AS warehouse_rows,
      ${superseded} AS superseded_rows, ${revenue} AS revenue`);
    rows.push([k.entity, Number(r.warehouse_rows), Number(r.superseded_rows), r.revenue === null ? null : Number(r.revenue)]);
  }
  return { columns: VERIFY_COLUMNS, rows };
}
