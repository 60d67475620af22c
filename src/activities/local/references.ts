/**
 * Which customers and products an order may refer to: this batch's dimension rows plus those of every
 * EARLIER batch in the lake's gold layer. Earlier only, so a date's outcome depends on history up to
 * that date and re-running an old date after newer ones gives the same result as its first run.
 */
import type { Lake } from './lake';
import { listLit } from './warehouse';

const DIM_TABLE = { customers: 'dim_customers', products: 'dim_products' } as const;
const KEY = { customers: 'customer_id', products: 'product_id' } as const;

/** A query yielding one column `k` (BIGINT): keys known from batches before `runDate`. */
export function knownKeysSql(lake: Lake, entity: 'customers' | 'products', runDate: string): string {
  const files = lake
    .batches('gold', DIM_TABLE[entity])
    .filter(([date]) => date < runDate)
    .flatMap(([, dir]) => lake.parquetFiles(dir));
  if (files.length === 0) return 'SELECT NULL::BIGINT AS k WHERE false';
  return `SELECT ${KEY[entity]}::BIGINT AS k FROM read_parquet(${listLit(files)})`;
}
