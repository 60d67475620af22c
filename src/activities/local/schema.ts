/**
 * Tables of the local warehouse file. `bronze` holds the catalog of what each crawl found (the data
 * itself stays in the lake as Parquet); `analytics` is the warehouse of the data contract.
 * No primary-key constraints: keys are kept unique by the load's merge, and DuckDB's index checks
 * would only slow the bulk delete-then-insert a merge is made of.
 */
import type { Sql } from './warehouse';

export const WAREHOUSE_TABLES = [
  'dim_customers',
  'dim_products',
  'fact_orders',
  'agg_daily_sales',
  'product_performance',
  'customer_analytics',
  'rejects',
  'load_audit',
] as const;
export type WarehouseTable = (typeof WAREHOUSE_TABLES)[number];

const DDL = `
CREATE SCHEMA IF NOT EXISTS bronze;
CREATE SCHEMA IF NOT EXISTS analytics;

CREATE TABLE IF NOT EXISTS bronze.catalog (
  batch_date DATE NOT NULL,
  entity VARCHAR NOT NULL,
  columns VARCHAR[] NOT NULL,
  files INTEGER NOT NULL,
  sources INTEGER NOT NULL,
  row_count BIGINT NOT NULL,
  crawl_id VARCHAR NOT NULL,
  cataloged_at TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS bronze.sources (
  batch_date DATE NOT NULL,
  entity VARCHAR NOT NULL,
  source_seq INTEGER NOT NULL,
  source_file VARCHAR NOT NULL,
  raw_key VARCHAR NOT NULL,
  header VARCHAR[] NOT NULL,
  row_count BIGINT NOT NULL
);

-- An index of the gold dimensions' keys by batch (rebuilt from the Parquet when it is missing or
-- stale), so checking an order's references does not read every earlier batch's files.
CREATE TABLE IF NOT EXISTS bronze.dimension_keys (
  entity VARCHAR NOT NULL,
  batch_date DATE NOT NULL,
  k BIGINT
);

CREATE TABLE IF NOT EXISTS bronze.dimension_key_batches (
  entity VARCHAR NOT NULL,
  batch_date DATE NOT NULL,
  signature VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS analytics.quality_reports (
  run_date DATE NOT NULL,
  entity VARCHAR NOT NULL,
  "check" VARCHAR NOT NULL,
  value DOUBLE NOT NULL,
  threshold DOUBLE NOT NULL,
  passed BOOLEAN NOT NULL,
  query_id VARCHAR NOT NULL,
  measured_at TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS analytics.dim_customers (
  customer_id BIGINT NOT NULL,
  first_name VARCHAR,
  last_name VARCHAR,
  email VARCHAR,
  join_date DATE,
  city VARCHAR NOT NULL,
  state VARCHAR NOT NULL,
  batch_date DATE NOT NULL,
  last_updated TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS analytics.dim_products (
  product_id BIGINT NOT NULL,
  product_name VARCHAR,
  category VARCHAR,
  price DECIMAL(10,2) NOT NULL,
  batch_date DATE NOT NULL,
  last_updated TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS analytics.fact_orders (
  order_id BIGINT NOT NULL,
  customer_id BIGINT NOT NULL,
  product_id BIGINT NOT NULL,
  order_date DATE NOT NULL,
  order_amount DECIMAL(10,2) NOT NULL,
  quantity INTEGER NOT NULL,
  delivery_date DATE,
  batch_date DATE NOT NULL,
  last_updated TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS analytics.agg_daily_sales (
  order_date DATE NOT NULL,
  total_orders BIGINT NOT NULL,
  total_revenue DECIMAL(18,2) NOT NULL,
  total_quantity BIGINT NOT NULL,
  unique_customers BIGINT NOT NULL,
  avg_order_value DECIMAL(12,2) NOT NULL,
  last_updated TIMESTAMP NOT NULL
);

-- The marts (src/rules/marts.ts): product_performance keyed by (product_id, order_date),
-- customer_analytics by customer_id.
CREATE TABLE IF NOT EXISTS analytics.product_performance (
  product_id BIGINT NOT NULL,
  order_date DATE NOT NULL,
  total_orders BIGINT NOT NULL,
  total_revenue DECIMAL(18,2) NOT NULL,
  total_quantity BIGINT NOT NULL,
  unique_customers BIGINT NOT NULL,
  last_updated TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS analytics.customer_analytics (
  customer_id BIGINT NOT NULL,
  as_of_date DATE NOT NULL,
  last_order_date DATE NOT NULL,
  recency_days INTEGER NOT NULL,
  frequency BIGINT NOT NULL,
  monetary DECIMAL(18,2) NOT NULL,
  r_score INTEGER NOT NULL,
  f_score INTEGER NOT NULL,
  m_score INTEGER NOT NULL,
  segment VARCHAR NOT NULL,
  last_updated TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS analytics.rejects (
  batch_date DATE NOT NULL,
  entity VARCHAR NOT NULL,
  source_file VARCHAR NOT NULL,
  row_number BIGINT NOT NULL,
  reason VARCHAR NOT NULL,
  raw_record VARCHAR NOT NULL,
  loaded_at TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS analytics.load_audit (
  batch_date DATE NOT NULL,
  etl_run_id VARCHAR NOT NULL,
  statement_id VARCHAR NOT NULL,
  workflow_id VARCHAR NOT NULL,
  customers_read BIGINT NOT NULL,
  customers_loaded BIGINT NOT NULL,
  customers_rejected BIGINT NOT NULL,
  customers_duplicates BIGINT NOT NULL,
  products_read BIGINT NOT NULL,
  products_loaded BIGINT NOT NULL,
  products_rejected BIGINT NOT NULL,
  products_duplicates BIGINT NOT NULL,
  orders_read BIGINT NOT NULL,
  orders_loaded BIGINT NOT NULL,
  orders_rejected BIGINT NOT NULL,
  orders_duplicates BIGINT NOT NULL,
  orders_revenue DECIMAL(18,2) NOT NULL,
  transform_ms BIGINT NOT NULL,
  load_ms BIGINT NOT NULL,
  loaded_at TIMESTAMP NOT NULL
);
`;

/** Columns renamed to match the Redshift warehouse: a warehouse made by an older version is renamed in place. */
const RENAMED_COLUMNS = [
  ['fact_orders', 'load_timestamp', 'last_updated'],
  ['rejects', 'rejected_at', 'loaded_at'],
] as const;

export async function ensureSchema(db: Sql): Promise<void> {
  await db.run(DDL);
  for (const [table, from, to] of RENAMED_COLUMNS) {
    const old = await db.all(`SELECT 1 FROM duckdb_columns() WHERE schema_name = 'analytics' AND table_name = $1 AND column_name = $2`, [
      table,
      from,
    ]);
    if (old.length > 0) await db.run(`ALTER TABLE analytics.${table} RENAME COLUMN ${from} TO ${to}`);
  }
}

/** Columns that change on every run (timestamps, ids, timings): left out when comparing states. */
export const VOLATILE_COLUMNS: Record<WarehouseTable, string[]> = {
  dim_customers: ['last_updated'],
  dim_products: ['last_updated'],
  fact_orders: ['last_updated'],
  agg_daily_sales: ['last_updated'],
  product_performance: ['last_updated'],
  customer_analytics: ['last_updated'],
  rejects: ['loaded_at'],
  load_audit: ['etl_run_id', 'statement_id', 'workflow_id', 'transform_ms', 'load_ms', 'loaded_at'],
};
