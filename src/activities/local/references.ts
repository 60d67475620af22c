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

/** One indexed batch of a dimension: its date and the signature of the gold files it was read from. */
export interface IndexedBatch {
  entity: DimensionEntity;
  date: string;
  signature: string;
}

/**
 * Brings the key index of the dimensions in line with the gold layer's batches, in one transaction,
 * and returns the index as it then is (a stage's verdicts depend on it).
 */
export async function syncDimensionKeys(
  db: Sql,
  lake: Lake,
  entities: readonly DimensionEntity[] = ['customers', 'products'],
): Promise<IndexedBatch[]> {
  const rows = await db.all(
    `SELECT entity, strftime(batch_date, '%Y-%m-%d') AS d, signature FROM bronze.dimension_key_batches ORDER BY entity, batch_date`,
  );
  const index: IndexedBatch[] = [];
  const changes: (() => Promise<void>)[] = [];
  for (const entity of entities) {
    const wanted = new Map<string, { files: string[]; signature: string }>();
    for (const [date, dir] of lake.batches('gold', DIM_TABLE[entity])) {
      const files = lake.parquetFiles(dir);
      if (files.length > 0) wanted.set(date, { files, signature: filesSignature(files) });
    }
    const indexed = new Map(rows.filter((r) => r.entity === entity).map((r) => [String(r.d), String(r.signature)] as [string, string]));
    for (const d of [...indexed.keys()].filter((d) => wanted.get(d)?.signature !== indexed.get(d))) {
      changes.push(async () => {
        await db.run('DELETE FROM bronze.dimension_keys WHERE entity = $1 AND batch_date = $2::DATE', [entity, d]);
        await db.run('DELETE FROM bronze.dimension_key_batches WHERE entity = $1 AND batch_date = $2::DATE', [entity, d]);
      });
    }
    for (const [d, w] of wanted.entries()) {
      index.push({ entity, date: d, signature: w.signature });
      if (indexed.get(d) === w.signature) continue;
      changes.push(async () => {
        await db.run(
          `INSERT INTO bronze.dimension_keys SELECT ${lit(entity)}, ${lit(d)}::DATE, ${KEY[entity]}::BIGINT FROM read_parquet(${listLit(w.files)})`,
        );
        await db.run('INSERT INTO bronze.dimension_key_batches VALUES ($1, $2::DATE, $3)', [entity, d, w.signature]);
      });
    }
  }
  index.sort((x, y) => (x.entity === y.entity ? (x.date < y.date ? -1 : 1) : x.entity < y.entity ? -1 : 1));
  if (changes.length === 0) return index;
  await db.run('BEGIN TRANSACTION');
  try {
    for (const change of changes) await change();
    await db.run('COMMIT');
  } catch (err) {
    await db.run('ROLLBACK');
    throw err;
  }
  return index;
}

/** A query yielding one column `k` (BIGINT): keys known from batches before `runDate` (after a sync). */
export function knownKeysSql(entity: DimensionEntity, runDate: string): string {
  return `SELECT k FROM bronze.dimension_keys WHERE entity = ${lit(entity)} AND batch_date < ${lit(runDate)}::DATE`;
}
