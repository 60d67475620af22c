/** The daily sales aggregate, one definition for the batch's gold table and the warehouse recompute. */

/**
 * Per order_date over a relation of fact rows. The average is rounded half-up in whole cents with
 * integer arithmetic: a float division would turn 46.49 / 2 into 23.244999... and round it down.
 */
export function dailySalesSelect(facts: string, where = 'true'): string {
  return `SELECT order_date,
      count(*)::BIGINT AS total_orders,
      sum(order_amount)::DECIMAL(18,2) AS total_revenue,
      sum(quantity)::BIGINT AS total_quantity,
      count(DISTINCT customer_id)::BIGINT AS unique_customers,
      (((2 * (sum(order_amount) * 100)::HUGEINT + count(*)) // (2 * count(*)))::DECIMAL(18,0) / 100)::DECIMAL(12,2) AS avg_order_value
    FROM ${facts}
    WHERE ${where}
    GROUP BY order_date`;
}
