-- Warehouse tables of the daily e-commerce pipeline (Amazon Redshift). Safe to run again: every
-- statement is IF NOT EXISTS. Placeholders: {{schema}} (default analytics).
--
-- Staging tables hold the Glue job's Parquet for one batch (COPY maps Parquet columns by position, so
-- their column order is the job's output order; glue/tests checks the two agree). A batch's staging
-- rows stay until that date is loaded again: verify.sql reads them to count superseded rows.
-- Text columns are wide VARCHARs because a value longer than its column fails the whole COPY.

CREATE SCHEMA IF NOT EXISTS {{schema}};

CREATE TABLE IF NOT EXISTS {{schema}}.dim_customers (
  customer_id BIGINT NOT NULL,
  first_name VARCHAR(1024),
  last_name VARCHAR(1024),
  email VARCHAR(1024),
  join_date DATE,
  city VARCHAR(1024) NOT NULL,
  state VARCHAR(256) NOT NULL,
  batch_date DATE NOT NULL,
  last_updated TIMESTAMP NOT NULL,
  PRIMARY KEY (customer_id)
)
DISTSTYLE ALL SORTKEY (customer_id);

CREATE TABLE IF NOT EXISTS {{schema}}.dim_products (
  product_id BIGINT NOT NULL,
  product_name VARCHAR(1024),
  category VARCHAR(1024),
  price DECIMAL(10,2) NOT NULL,
  batch_date DATE NOT NULL,
  last_updated TIMESTAMP NOT NULL,
  PRIMARY KEY (product_id)
)
DISTSTYLE ALL SORTKEY (product_id);

CREATE TABLE IF NOT EXISTS {{schema}}.fact_orders (
  order_id BIGINT NOT NULL,
  customer_id BIGINT NOT NULL,
  product_id BIGINT NOT NULL,
  order_date DATE NOT NULL,
  order_amount DECIMAL(10,2) NOT NULL,
  quantity INTEGER NOT NULL,
  delivery_date DATE,
  batch_date DATE NOT NULL,
  last_updated TIMESTAMP NOT NULL,
  PRIMARY KEY (order_id)
)
DISTSTYLE KEY DISTKEY (order_id) SORTKEY (order_date);

CREATE TABLE IF NOT EXISTS {{schema}}.agg_daily_sales (
  order_date DATE NOT NULL,
  total_orders BIGINT NOT NULL,
  total_revenue DECIMAL(18,2) NOT NULL,
  total_quantity BIGINT NOT NULL,
  unique_customers BIGINT NOT NULL,
  avg_order_value DECIMAL(12,2) NOT NULL,
  last_updated TIMESTAMP NOT NULL,
  PRIMARY KEY (order_date)
)
DISTSTYLE ALL SORTKEY (order_date);

-- The marts (src/rules/marts.ts; load.sql refreshes them): per product and day, and RFM per customer.
CREATE TABLE IF NOT EXISTS {{schema}}.product_performance (
  product_id BIGINT NOT NULL,
  order_date DATE NOT NULL,
  total_orders BIGINT NOT NULL,
  total_revenue DECIMAL(18,2) NOT NULL,
  total_quantity BIGINT NOT NULL,
  unique_customers BIGINT NOT NULL,
  last_updated TIMESTAMP NOT NULL,
  PRIMARY KEY (product_id, order_date)
)
DISTSTYLE EVEN SORTKEY (order_date, product_id);

CREATE TABLE IF NOT EXISTS {{schema}}.customer_analytics (
  customer_id BIGINT NOT NULL,
  as_of_date DATE NOT NULL,
  last_order_date DATE NOT NULL,
  recency_days INTEGER NOT NULL,
  frequency BIGINT NOT NULL,
  monetary DECIMAL(18,2) NOT NULL,
  r_score INTEGER NOT NULL,
  f_score INTEGER NOT NULL,
  m_score INTEGER NOT NULL,
  segment VARCHAR(32) NOT NULL,
  last_updated TIMESTAMP NOT NULL,
  PRIMARY KEY (customer_id)
)
DISTSTYLE KEY DISTKEY (customer_id) SORTKEY (customer_id);

CREATE TABLE IF NOT EXISTS {{schema}}.rejects (
  batch_date DATE NOT NULL,
  entity VARCHAR(16) NOT NULL,
  source_file VARCHAR(1024) NOT NULL,
  row_number INTEGER NOT NULL,
  reason VARCHAR(32) NOT NULL,
  raw_record VARCHAR(65535) NOT NULL,
  loaded_at TIMESTAMP NOT NULL
)
DISTSTYLE EVEN SORTKEY (batch_date, entity);

CREATE TABLE IF NOT EXISTS {{schema}}.load_audit (
  batch_date DATE NOT NULL,
  etl_run_id VARCHAR(256) NOT NULL,
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
  transform_started_at TIMESTAMP NOT NULL,
  transform_finished_at TIMESTAMP NOT NULL,
  loaded_at TIMESTAMP NOT NULL,
  PRIMARY KEY (batch_date)
)
DISTSTYLE ALL SORTKEY (batch_date);

CREATE TABLE IF NOT EXISTS {{schema}}.quality_reports (
  batch_date DATE NOT NULL,
  workflow_id VARCHAR(256) NOT NULL,
  entity VARCHAR(16) NOT NULL,
  check_name VARCHAR(64) NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  threshold DOUBLE PRECISION NOT NULL,
  passed BOOLEAN NOT NULL,
  measured_at TIMESTAMP NOT NULL
)
DISTSTYLE ALL SORTKEY (batch_date);

CREATE TABLE IF NOT EXISTS {{schema}}.stg_customers (
  customer_id BIGINT,
  first_name VARCHAR(1024),
  last_name VARCHAR(1024),
  email VARCHAR(1024),
  join_date DATE,
  city VARCHAR(1024),
  state VARCHAR(256),
  batch_date DATE
)
DISTSTYLE ALL;

CREATE TABLE IF NOT EXISTS {{schema}}.stg_products (
  product_id BIGINT,
  product_name VARCHAR(1024),
  category VARCHAR(1024),
  price DECIMAL(10,2),
  batch_date DATE
)
DISTSTYLE ALL;

CREATE TABLE IF NOT EXISTS {{schema}}.stg_orders (
  order_id BIGINT,
  customer_id BIGINT,
  product_id BIGINT,
  order_date DATE,
  order_amount DECIMAL(10,2),
  quantity INTEGER,
  delivery_date DATE,
  batch_date DATE
)
DISTSTYLE KEY DISTKEY (order_id);

CREATE TABLE IF NOT EXISTS {{schema}}.stg_rejects (
  batch_date DATE,
  entity VARCHAR(16),
  source_file VARCHAR(1024),
  row_number INTEGER,
  reason VARCHAR(32),
  raw_record VARCHAR(65535)
)
DISTSTYLE EVEN;

CREATE TABLE IF NOT EXISTS {{schema}}.stg_load_metrics (
  batch_date DATE,
  etl_run_id VARCHAR(256),
  customers_read BIGINT,
  customers_loaded BIGINT,
  customers_rejected BIGINT,
  customers_duplicates BIGINT,
  products_read BIGINT,
  products_loaded BIGINT,
  products_rejected BIGINT,
  products_duplicates BIGINT,
  orders_read BIGINT,
  orders_loaded BIGINT,
  orders_rejected BIGINT,
  orders_duplicates BIGINT,
  orders_revenue DECIMAL(14,2),
  transform_started_ms BIGINT,
  transform_finished_ms BIGINT
)
DISTSTYLE ALL;

CREATE TABLE IF NOT EXISTS {{schema}}.stg_affected_dates (
  batch_date DATE NOT NULL,
  order_date DATE NOT NULL
)
DISTSTYLE ALL;
