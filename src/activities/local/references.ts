/**
 * Which customers and products an order may refer to: this batch's dimension rows plus those of every
 * EARLIER batch in the lake's gold layer. Earlier only, so a date's outcome depends on history up to
 * that date and re-running an old date after newer ones gives the same result as its first run.
 *
 * The gold Parquet stays the truth; `bronze.dimension_keys` indexes its keys by batch so a year of
 * history costs one table scan, not hundreds of file opens. Each indexed batch keeps a signature of
 * its files (name, size, mtime): a batch published, replaced or removed since is re-read before use.
 */
import type { Lake } from './lake';
import { filesSignature } from './lake';
import type { Sql } from './warehouse';
import { listLit, lit } from './warehouse';

export type DimensionEntity = 'customers' | 'products';

const DIM_TABLE = { customers: 'dim_customers', products: 'dim_products' } as const;
const KEY = { customers: 'customer_id', products: 'product_id' } as const;

/** Brings the key index of one dimension in line with the gold layer's batches, in one transaction. */
export async function syncDimensionKeys(db: Sql, lake: Lake, entity: DimensionEntity): Promise<void> {
  const wanted = new Map<string, { files: string[]; signature: string }>();
  for (const [date, dir] of lake.batches('gold', DIM_TABLE[entity])) {
    const files = lake.parquetFiles(dir);
    if (files.length > 0) wanted.set(date, { files, signature: filesSignature(files) });
  }
  const indexed = new Map(
    (
      await db.all(`SELECT strftime(batch_date, '%Y-%m-%d') AS d, signature FROM bronze.dimension_key_batches WHERE entity = $1`, [entity])
    ).map((r) => [String(r.d), String(r.signature)] as [string, string]),
  );
  const stale = [...indexed.keys()].filter((d) => wanted.get(d)?.signature !== indexed.get(d));
  const fresh = [...wanted.entries()].filter(([d, w]) => indexed.get(d) !== w.signature);
  if (stale.length === 0 && fresh.length === 0) return;
  await db.run('BEGIN TRANSACTION');
  try {
    for (const d of stale) {
      await db.run('DELETE FROM bronze.dimension_keys WHERE entity = $1 AND batch_date = $2::DATE', [entity, d]);
      await db.run('DELETE FROM bronze.dimension_key_batches WHERE entity = $1 AND batch_date = $2::DATE', [entity, d]);
    }
    for (const [d, w] of fresh) {
      await db.run(
        `INSERT INTO bronze.dimension_keys SELECT ${lit(entity)}, ${lit(d)}::DATE, ${KEY[entity]}::BIGINT FROM read_parquet(${listLit(w.files)})`,
      );
      await db.run('INSERT INTO bronze.dimension_key_batches VALUES ($1, $2::DATE, $3)', [entity, d, w.signature]);
    }
    await db.run('COMMIT');
  } catch (err) {
    await db.run('ROLLBACK');
    throw err;
  }
}

/** A query yielding one column `k` (BIGINT): keys known from batches before `runDate` (after a sync). */
export function knownKeysSql(entity: DimensionEntity, runDate: string): string {
  return `SELECT k FROM bronze.dimension_keys WHERE entity = ${lit(entity)} AND batch_date < ${lit(runDate)}::DATE`;
}
