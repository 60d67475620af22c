-- One row per entity for batch {{run_date}}: entity, warehouse_rows (rows of this batch in the
-- warehouse), superseded_rows (rows of this batch whose key a later batch holds), revenue (orders
-- only). warehouse_rows + superseded_rows equals the batch's loaded count. Placeholders: {{schema}},
-- {{run_date}}. Reads the batch's staging rows, which load.sql leaves in place.
SELECT 'customers' AS entity, w.n AS warehouse_rows, x.n AS superseded_rows, CAST(NULL AS DECIMAL(14,2)) AS revenue
FROM (SELECT COUNT(*) AS n FROM {{schema}}.dim_customers WHERE batch_date = '{{run_date}}') w
CROSS JOIN (
  SELECT COUNT(*) AS n FROM {{schema}}.stg_customers s
  JOIN {{schema}}.dim_customers d ON d.customer_id = s.customer_id
  WHERE s.batch_date = '{{run_date}}' AND d.batch_date > s.batch_date
) x
UNION ALL
SELECT 'products', w.n, x.n, CAST(NULL AS DECIMAL(14,2))
FROM (SELECT COUNT(*) AS n FROM {{schema}}.dim_products WHERE batch_date = '{{run_date}}') w
CROSS JOIN (
  SELECT COUNT(*) AS n FROM {{schema}}.stg_products s
  JOIN {{schema}}.dim_products d ON d.product_id = s.product_id
  WHERE s.batch_date = '{{run_date}}' AND d.batch_date > s.batch_date
) x
UNION ALL
SELECT 'orders', w.n, x.n, w.revenue
FROM (
  SELECT COUNT(*) AS n, CAST(COALESCE(SUM(order_amount), 0) AS DECIMAL(14,2)) AS revenue
  FROM {{schema}}.fact_orders WHERE batch_date = '{{run_date}}'
) w
CROSS JOIN (
  SELECT COUNT(*) AS n FROM {{schema}}.stg_orders s
  JOIN {{schema}}.fact_orders f ON f.order_id = s.order_id
  WHERE s.batch_date = '{{run_date}}' AND f.batch_date > s.batch_date
) x;
