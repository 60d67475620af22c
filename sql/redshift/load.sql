-- Loads one batch ({{run_date}}) of the Glue job's output into the warehouse.
--
-- Run all statements as ONE transaction (Redshift Data BatchExecuteStatement does): a failure leaves
-- every table as it was. Nothing here commits on its own (no TRUNCATE, VACUUM or DDL).
-- Placeholders: {{schema}}, {{run_date}} (YYYY-MM-DD), {{processed_uri}} (s3://bucket/prefix/processed,
-- no trailing slash), {{copy_role_arn}} (IAM role Redshift assumes to read it).
--
-- Rules (the same as the local warehouse's load, src/activities/local/load.ts), per keyed table:
-- - a rerun replaces its batch: every row whose batch_date is this batch goes, and the batch's staged
--   rows come back, so a row its files no longer hold is removed (loading a date again with the same
--   files changes nothing but timestamps);
-- - a row of an EARLIER batch with a key of this batch is replaced (a later batch wins);
-- - a row of a LATER batch is never touched, and this batch's row for that key is skipped.
-- A row this batch once overwrote and its rerun no longer holds is gone: the earlier batch's version
-- is not brought back (loading that earlier date again does). The batch's rejects and audit row
-- replace the previous ones. Last, the marts (the block rendered from src/rules/marts.ts): daily
-- sales and product performance are recomputed from fact_orders for every order_date this batch adds
-- rows to or takes rows away from, customer analytics whole, as of the latest batch date loaded.

DELETE FROM {{schema}}.stg_customers WHERE batch_date = '{{run_date}}';
DELETE FROM {{schema}}.stg_products WHERE batch_date = '{{run_date}}';
DELETE FROM {{schema}}.stg_orders WHERE batch_date = '{{run_date}}';
DELETE FROM {{schema}}.stg_rejects WHERE batch_date = '{{run_date}}';
DELETE FROM {{schema}}.stg_load_metrics WHERE batch_date = '{{run_date}}';
DELETE FROM {{schema}}.stg_affected_dates WHERE batch_date = '{{run_date}}';

COPY {{schema}}.stg_customers FROM '{{processed_uri}}/gold/dim_customers/batch_date={{run_date}}/' IAM_ROLE '{{copy_role_arn}}' FORMAT AS PARQUET;
COPY {{schema}}.stg_products FROM '{{processed_uri}}/gold/dim_products/batch_date={{run_date}}/' IAM_ROLE '{{copy_role_arn}}' FORMAT AS PARQUET;
COPY {{schema}}.stg_orders FROM '{{processed_uri}}/gold/fact_orders/batch_date={{run_date}}/' IAM_ROLE '{{copy_role_arn}}' FORMAT AS PARQUET;
COPY {{schema}}.stg_rejects FROM '{{processed_uri}}/rejects/customers/batch_date={{run_date}}/' IAM_ROLE '{{copy_role_arn}}' FORMAT AS PARQUET;
COPY {{schema}}.stg_rejects FROM '{{processed_uri}}/rejects/products/batch_date={{run_date}}/' IAM_ROLE '{{copy_role_arn}}' FORMAT AS PARQUET;
COPY {{schema}}.stg_rejects FROM '{{processed_uri}}/rejects/orders/batch_date={{run_date}}/' IAM_ROLE '{{copy_role_arn}}' FORMAT AS PARQUET;
COPY {{schema}}.stg_load_metrics FROM '{{processed_uri}}/gold/load_metrics/batch_date={{run_date}}/' IAM_ROLE '{{copy_role_arn}}' FORMAT AS PARQUET;

-- the order dates this batch takes rows away from (read before those rows go): where its rows of a
-- previous load fall, held again or not, and where the earlier batches' rows it replaces fall; and
-- those it adds rows to (rows a later batch already holds are not added)
INSERT INTO {{schema}}.stg_affected_dates (batch_date, order_date)
SELECT f.batch_date, f.order_date
FROM {{schema}}.fact_orders f
WHERE f.batch_date = '{{run_date}}'
UNION
SELECT s.batch_date, f.order_date
FROM {{schema}}.fact_orders f
JOIN {{schema}}.stg_orders s ON s.order_id = f.order_id
WHERE s.batch_date = '{{run_date}}' AND f.batch_date < s.batch_date
UNION
SELECT s.batch_date, s.order_date
FROM {{schema}}.stg_orders s
WHERE s.batch_date = '{{run_date}}'
  AND NOT EXISTS (
    SELECT 1 FROM {{schema}}.fact_orders f WHERE f.order_id = s.order_id AND f.batch_date > s.batch_date
  );

DELETE FROM {{schema}}.dim_customers WHERE batch_date = '{{run_date}}';

DELETE FROM {{schema}}.dim_customers
USING {{schema}}.stg_customers s
WHERE s.batch_date = '{{run_date}}'
  AND dim_customers.customer_id = s.customer_id
  AND dim_customers.batch_date < s.batch_date;

INSERT INTO {{schema}}.dim_customers
  (customer_id, first_name, last_name, email, join_date, city, state, batch_date, last_updated)
SELECT s.customer_id, s.first_name, s.last_name, s.email, s.join_date, s.city, s.state, s.batch_date, GETDATE()
FROM {{schema}}.stg_customers s
WHERE s.batch_date = '{{run_date}}'
  AND NOT EXISTS (SELECT 1 FROM {{schema}}.dim_customers d WHERE d.customer_id = s.customer_id);

DELETE FROM {{schema}}.dim_products WHERE batch_date = '{{run_date}}';

DELETE FROM {{schema}}.dim_products
USING {{schema}}.stg_products s
WHERE s.batch_date = '{{run_date}}'
  AND dim_products.product_id = s.product_id
  AND dim_products.batch_date < s.batch_date;

INSERT INTO {{schema}}.dim_products (product_id, product_name, category, price, batch_date, last_updated)
SELECT s.product_id, s.product_name, s.category, s.price, s.batch_date, GETDATE()
FROM {{schema}}.stg_products s
WHERE s.batch_date = '{{run_date}}'
  AND NOT EXISTS (SELECT 1 FROM {{schema}}.dim_products d WHERE d.product_id = s.product_id);

DELETE FROM {{schema}}.fact_orders WHERE batch_date = '{{run_date}}';

DELETE FROM {{schema}}.fact_orders
USING {{schema}}.stg_orders s
WHERE s.batch_date = '{{run_date}}'
  AND fact_orders.order_id = s.order_id
  AND fact_orders.batch_date < s.batch_date;

INSERT INTO {{schema}}.fact_orders
  (order_id, customer_id, product_id, order_date, order_amount, quantity, delivery_date, batch_date, last_updated)
SELECT s.order_id, s.customer_id, s.product_id, s.order_date, s.order_amount, s.quantity, s.delivery_date, s.batch_date, GETDATE()
FROM {{schema}}.stg_orders s
WHERE s.batch_date = '{{run_date}}'
  AND NOT EXISTS (SELECT 1 FROM {{schema}}.fact_orders f WHERE f.order_id = s.order_id);

DELETE FROM {{schema}}.rejects WHERE batch_date = '{{run_date}}';

INSERT INTO {{schema}}.rejects (batch_date, entity, source_file, row_number, reason, raw_record, loaded_at)
SELECT r.batch_date, r.entity, r.source_file, r.row_number, r.reason, r.raw_record, GETDATE()
FROM {{schema}}.stg_rejects r
WHERE r.batch_date = '{{run_date}}';

DELETE FROM {{schema}}.load_audit WHERE batch_date = '{{run_date}}';

INSERT INTO {{schema}}.load_audit
SELECT
  m.batch_date, m.etl_run_id,
  m.customers_read, m.customers_loaded, m.customers_rejected, m.customers_duplicates,
  m.products_read, m.products_loaded, m.products_rejected, m.products_duplicates,
  m.orders_read, m.orders_loaded, m.orders_rejected, m.orders_duplicates,
  m.orders_revenue,
  TIMESTAMP 'epoch' + (m.transform_started_ms / 1000.0) * INTERVAL '1 second',
  TIMESTAMP 'epoch' + (m.transform_finished_ms / 1000.0) * INTERVAL '1 second',
  GETDATE()
FROM {{schema}}.stg_load_metrics m
WHERE m.batch_date = '{{run_date}}';

-- BEGIN marts: rendered from src/rules/marts.ts by `npx tsx scripts/render-rules.ts --load-sql`; change the model, not this block
DELETE FROM {{schema}}.agg_daily_sales WHERE order_date IN (SELECT a.order_date FROM {{schema}}.stg_affected_dates a WHERE a.batch_date = '{{run_date}}');

INSERT INTO {{schema}}.agg_daily_sales (order_date, total_orders, total_revenue, total_quantity, unique_customers, avg_order_value, last_updated)
SELECT order_date, total_orders, total_revenue, total_quantity, unique_customers, avg_order_value, GETDATE() FROM (
SELECT order_date,
  CAST(count(*) AS BIGINT) AS total_orders,
  CAST(sum(order_amount) AS DECIMAL(18,2)) AS total_revenue,
  CAST(sum(quantity) AS BIGINT) AS total_quantity,
  CAST(count(DISTINCT customer_id) AS BIGINT) AS unique_customers,
  CAST(CAST(((2 * CAST(sum(CAST(order_amount * 100 AS BIGINT)) AS BIGINT) + count(*)) / (2 * count(*))) AS DECIMAL(18,0)) * CAST(0.01 AS DECIMAL(3,2)) AS DECIMAL(12,2)) AS avg_order_value
FROM {{schema}}.fact_orders f
WHERE f.order_date IN (SELECT a.order_date FROM {{schema}}.stg_affected_dates a WHERE a.batch_date = '{{run_date}}')
GROUP BY order_date
) m;

DELETE FROM {{schema}}.product_performance WHERE order_date IN (SELECT a.order_date FROM {{schema}}.stg_affected_dates a WHERE a.batch_date = '{{run_date}}');

INSERT INTO {{schema}}.product_performance (product_id, order_date, total_orders, total_revenue, total_quantity, unique_customers, last_updated)
SELECT product_id, order_date, total_orders, total_revenue, total_quantity, unique_customers, GETDATE() FROM (
SELECT product_id, order_date,
  CAST(count(*) AS BIGINT) AS total_orders,
  CAST(sum(order_amount) AS DECIMAL(18,2)) AS total_revenue,
  CAST(sum(quantity) AS BIGINT) AS total_quantity,
  CAST(count(DISTINCT customer_id) AS BIGINT) AS unique_customers
FROM {{schema}}.fact_orders f
WHERE f.order_date IN (SELECT a.order_date FROM {{schema}}.stg_affected_dates a WHERE a.batch_date = '{{run_date}}')
GROUP BY product_id, order_date
) m;

DELETE FROM {{schema}}.customer_analytics;

INSERT INTO {{schema}}.customer_analytics (customer_id, as_of_date, last_order_date, recency_days, frequency, monetary, r_score, f_score, m_score, segment, last_updated)
SELECT customer_id, as_of_date, last_order_date, recency_days, frequency, monetary, r_score, f_score, m_score, segment, GETDATE() FROM (
SELECT customer_id, as_of_date, last_order_date, recency_days, frequency, monetary, r_score, f_score, m_score,
  CASE WHEN r_score BETWEEN 4 AND 5 AND f_score BETWEEN 4 AND 5 AND m_score BETWEEN 4 AND 5 THEN 'Champions' WHEN r_score BETWEEN 3 AND 5 AND f_score BETWEEN 3 AND 5 THEN 'Loyal' WHEN r_score BETWEEN 4 AND 5 AND f_score BETWEEN 1 AND 2 THEN 'New' WHEN r_score BETWEEN 3 AND 3 AND f_score BETWEEN 1 AND 2 THEN 'Promising' WHEN r_score BETWEEN 1 AND 2 AND f_score BETWEEN 3 AND 5 THEN 'At risk' WHEN r_score BETWEEN 2 AND 2 AND f_score BETWEEN 1 AND 2 THEN 'Hibernating' WHEN r_score BETWEEN 1 AND 1 AND f_score BETWEEN 1 AND 2 THEN 'Lost' END AS segment
FROM (
  SELECT c.*,
    CAST(NTILE(5) OVER (ORDER BY c.recency_days DESC, c.customer_id ASC) AS INTEGER) AS r_score,
    CAST(NTILE(5) OVER (ORDER BY c.frequency ASC, c.customer_id ASC) AS INTEGER) AS f_score,
    CAST(NTILE(5) OVER (ORDER BY c.monetary ASC, c.customer_id ASC) AS INTEGER) AS m_score
  FROM (
    SELECT f.customer_id, a.as_of_date, max(f.order_date) AS last_order_date,
      CAST(DATEDIFF(day, max(f.order_date), a.as_of_date) AS INTEGER) AS recency_days,
      CAST(count(*) AS BIGINT) AS frequency,
      CAST(sum(f.order_amount) AS DECIMAL(18,2)) AS monetary
    FROM {{schema}}.fact_orders f CROSS JOIN (SELECT MAX(batch_date) AS as_of_date FROM {{schema}}.load_audit) a
    WHERE f.order_date <= a.as_of_date
    GROUP BY f.customer_id, a.as_of_date
  ) c
) s
) m;
-- END marts
