/**
 * A shop database for the extract tests: a throwaway PostgreSQL (test/redshift/support/postgres.ts)
 * seeded with customers, products and two days of orders, and the extract configuration that reads
 * them (two tables and a query on the run date).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { ExtractConfig } from '../../src/config';
import { loadExtractConfig } from '../../src/config/extract';
import { startPostgres } from '../redshift/support/postgres';
import type { TestPostgres } from '../redshift/support/postgres';

export const DAY = '2025-10-27';
export const OTHER_DAY = '2025-10-28';

export const ORDERS_QUERY =
  'SELECT order_id, customer_id, product_id, order_date, order_amount, quantity, delivery_date FROM shop.orders WHERE order_date = $1::date ORDER BY order_id';

const SEED = `
CREATE SCHEMA shop;
CREATE TABLE shop.customers (customer_id integer PRIMARY KEY, first_name text, last_name text, email text, join_date date, city text, state text);
CREATE TABLE shop.products (product_id integer PRIMARY KEY, product_name text, category text, price numeric(10,2));
CREATE TABLE shop.orders (order_id integer PRIMARY KEY, customer_id integer, product_id integer, order_date date, order_amount numeric(10,2),
  quantity integer, delivery_date date);
INSERT INTO shop.customers VALUES
  (1, 'Ada', 'Lovelace', 'ada@example.com', '2024-01-05', 'London', 'LN'),
  (2, 'Grace', 'O''Brien, "Jr"', 'grace@example.com', '2024-02-10', 'New York', 'NY'),
  (3, 'Alan', 'Turing', 'alan@example.com', '2024-03-15', 'Wilmslow', 'CH');
INSERT INTO shop.products VALUES (10, 'Desk lamp', 'Home', 24.50), (11, 'Notebook', 'Office', 3.99);
INSERT INTO shop.orders VALUES
  (100, 1, 10, '${DAY}', 24.50, 1, '2025-10-29'),
  (101, 2, 11, '${DAY}', 7.98, 2, NULL),
  (102, 3, 10, '${DAY}', 49.00, 2, '2025-10-30'),
  (103, 1, 11, '${OTHER_DAY}', 3.99, 1, NULL);
`;

export const EXPECTED = {
  customers:
    'customer_id,first_name,last_name,email,join_date,city,state\n' +
    '1,Ada,Lovelace,ada@example.com,2024-01-05,London,LN\n' +
    '2,Grace,"O\'Brien, ""Jr""",grace@example.com,2024-02-10,New York,NY\n' +
    '3,Alan,Turing,alan@example.com,2024-03-15,Wilmslow,CH\n',
  products: 'product_id,product_name,category,price\n10,Desk lamp,Home,24.50\n11,Notebook,Office,3.99\n',
  orders:
    'order_id,customer_id,product_id,order_date,order_amount,quantity,delivery_date\n' +
    `100,1,10,${DAY},24.50,1,2025-10-29\n` +
    `101,2,11,${DAY},7.98,2,\n` +
    `102,3,10,${DAY},49.00,2,2025-10-30\n`,
};

export interface ShopDatabase {
  pg: TestPostgres;
  url: string;
  /** A connection for the test to change the shop's data. */
  db: Client;
  stop(): Promise<void>;
}

export async function startShopDatabase(): Promise<ShopDatabase> {
  const pg = await startPostgres();
  const url = `postgres://${pg.user}@${pg.host}:${pg.port}/${pg.database}`;
  const db = new Client({ connectionString: url });
  await db.connect();
  await db.query(SEED);
  return {
    pg,
    url,
    db,
    async stop() {
      await db.end().catch(() => undefined);
      await pg.stop();
    },
  };
}

/** The sources file a data engineer would write for this shop, and the configuration the worker reads from it. */
export function extractConfigFor(url: string, dir: string, sources?: object): ExtractConfig {
  const file = path.join(dir, 'extract.json');
  const given = sources ?? {
    customers: { table: 'shop.customers' },
    products: { table: 'shop.products' },
    orders: { query: ORDERS_QUERY },
  };
  fs.writeFileSync(file, JSON.stringify(given, null, 2));
  return loadExtractConfig({ PIPELINE_EXTRACT_DATABASE_URL: url, PIPELINE_EXTRACT_CONFIG: file })!;
}
