/**
 * The AWS data path without the cloud: the Glue job script runs on a local Spark over the small raw
 * dataset, its Parquet is staged the way Redshift COPY stages it (columns by position, counts must
 * match), and load.sql/verify.sql run on PostgreSQL. What arrives in the warehouse must be what the
 * job says it produced.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Client, types } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { MODEL_VERSION, rulesArtifactText, rulesFileName } from '../../src/rules/artifact';
import type { Fact } from '../parity/support/marts-oracle';
import { customerAnalytics, productPerformance } from '../parity/support/marts-oracle';
import { startPostgres } from './support/postgres';
import type { TestPostgres } from './support/postgres';
import { copyParquet } from './support/copy';
import { SCHEMA, createWarehouse, runLoad, runVerify } from './support/warehouse';

types.setTypeParser(types.builtins.DATE, (v) => v);

const ROOT = path.resolve(__dirname, '../..');
const DATASET = path.join(ROOT, 'glue/tests/fixtures/small');
const RUN_DATE = '2025-10-27';

let pg: TestPostgres;
let db: Client;
let processed: string;
let rulesDir: string;
let duck: DuckDBInstance;

function runGlueJob(processedPath: string): Promise<string> {
  // local Spark on the loopback interface, no UI: the job itself takes whatever master it is given
  const submit = [
    '--master local[2]',
    '--conf spark.ui.enabled=false',
    '--conf spark.driver.bindAddress=127.0.0.1',
    '--conf spark.driver.host=127.0.0.1',
    '--conf spark.sql.shuffle.partitions=2',
    // a short-lived JVM: quick JIT warm-up beats peak speed on a few dozen rows
    '--driver-java-options "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"',
    'pyspark-shell',
  ].join(' ');
  // The rules as `pipeline aws setup` uploads them beside the script, and the model a worker expects.
  const rules = path.join(rulesDir, rulesFileName());
  writeFileSync(rules, rulesArtifactText('spark'));
  const args = [
    'glue/ecommerce_etl_job.py',
    '--run_date',
    RUN_DATE,
    '--raw_path',
    DATASET,
    '--processed_path',
    processedPath,
    '--JOB_RUN_ID',
    'jr_local',
  ];
  args.push('--rules', rules, '--rules_model', MODEL_VERSION);
  return new Promise((resolve, reject) => {
    const child = spawn('python3', args, {
      cwd: ROOT,
      env: { ...process.env, PYSPARK_SUBMIT_ARGS: submit, SPARK_LOCAL_IP: '127.0.0.1', PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`Glue job exited with ${code}:\n${err.slice(-4000)}`))));
  });
}

function csvRows(file: string): string[][] {
  // the expected files hold no quoted commas in these tables
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
}

beforeAll(async () => {
  processed = await mkdtemp(path.join(os.tmpdir(), 'glue-out-'));
  rulesDir = await mkdtemp(path.join(os.tmpdir(), 'glue-rules-'));
  const [started] = await Promise.all([startPostgres(), runGlueJob(processed)]);
  pg = started;
  db = new Client({ host: pg.host, port: pg.port, user: pg.user, database: pg.database });
  await db.connect();
  await createWarehouse(db);
  duck = await DuckDBInstance.create(':memory:');
  await runLoad(db, RUN_DATE, (copy) => copyParquet(db, duck, copy.table, path.join(processed, copy.source, `batch_date=${RUN_DATE}`)));
}, 600_000);

afterAll(async () => {
  duck?.closeSync();
  await db?.end();
  await pg?.stop();
  if (processed) await rm(processed, { recursive: true, force: true });
  if (rulesDir) rmSync(rulesDir, { recursive: true, force: true });
});

describe('Glue job output loaded by load.sql', () => {
  it('puts exactly the expected facts and dimensions in the warehouse', async () => {
    const facts = await db.query(
      `SELECT order_id::text, customer_id::text, product_id::text, order_date, order_amount::text, quantity::text, COALESCE(delivery_date::text, '') AS delivery_date FROM ${SCHEMA}.fact_orders ORDER BY order_id`,
    );
    expect(facts.rows.map((r) => Object.values(r))).toEqual(csvRows(path.join(DATASET, 'expected/fact_orders.csv')));
    const products = await db.query(
      `SELECT product_id::text, product_name, category, price::text FROM ${SCHEMA}.dim_products ORDER BY product_id`,
    );
    expect(products.rows.map((r) => Object.values(r))).toEqual(csvRows(path.join(DATASET, 'expected/dim_products.csv')));
  });

  it('recomputes the same daily aggregates the job computed for the batch', async () => {
    const agg = await db.query(
      `SELECT order_date, total_orders::text, total_revenue::text, total_quantity::text, unique_customers::text, avg_order_value::text FROM ${SCHEMA}.agg_daily_sales ORDER BY order_date`,
    );
    expect(agg.rows.map((r) => Object.values(r))).toEqual(csvRows(path.join(DATASET, 'expected/agg_daily_sales.csv')));
  });

  it('recomputes product performance and customer analytics as the oracle does from the expected facts', async () => {
    const facts = parse(readFileSync(path.join(DATASET, 'expected/fact_orders.csv'), 'utf8'), { columns: true }) as Fact[];
    const read = async (table: string, columns: string[], orderBy: string) =>
      (await db.query(`SELECT ${columns.map((c) => `CAST(${c} AS TEXT) AS ${c}`).join(', ')} FROM ${SCHEMA}.${table} ORDER BY ${orderBy}`))
        .rows;
    const performance = productPerformance(facts);
    expect(await read('product_performance', Object.keys(performance[0]), 'product_id, order_date')).toEqual(performance);
    const customers = customerAnalytics(facts, RUN_DATE);
    expect(customers.length).toBeGreaterThan(1);
    expect(await read('customer_analytics', Object.keys(customers[0]), 'customer_id')).toEqual(customers);
  });

  it('verifies against the metrics the job wrote, and audits the same counts', async () => {
    const written = JSON.parse(readFileSync(path.join(processed, `_metrics/batch_date=${RUN_DATE}/metrics.json`), 'utf8')) as Record<
      string,
      unknown
    >;
    // The counts; the gate's report the job also writes there (`quality`) is no audit column.
    const metrics = Object.fromEntries(Object.entries(written).filter(([k]) => k !== 'quality')) as Record<string, number>;
    const verified = await runVerify(db, RUN_DATE);
    for (const row of verified) {
      const entity = String(row.entity);
      expect(Number(row.warehouse_rows) + Number(row.superseded_rows), entity).toBe(metrics[`${entity}.loaded`]);
    }
    expect(Number(verified.find((r) => r.entity === 'orders')?.revenue)).toBeCloseTo(metrics['orders.revenue'], 2);
    const audit = (await db.query(`SELECT * FROM ${SCHEMA}.load_audit`)).rows;
    expect(audit).toHaveLength(1);
    expect(audit[0].etl_run_id).toBe('jr_local');
    for (const key of Object.keys(metrics).filter((k) => k !== 'orders.revenue')) {
      expect(Number(audit[0][key.replace('.', '_')]), key).toBe(metrics[key]);
    }
    const rejects = await db.query(`SELECT entity, count(*)::int AS n FROM ${SCHEMA}.rejects GROUP BY entity ORDER BY entity`);
    expect(rejects.rows).toEqual(['customers', 'orders', 'products'].map((e) => ({ entity: e, n: metrics[`${e}.rejected`] })));
  });

  it('keeps each reject with its file, row, reason and raw record', async () => {
    const { rows } = await db.query(
      `SELECT source_file, row_number, reason, raw_record FROM ${SCHEMA}.rejects WHERE entity = 'orders' AND source_file = 'orders_late.csv' ORDER BY row_number`,
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ row_number: 4, reason: 'missing_key' });
    expect(JSON.parse(rows[0].raw_record)).toMatchObject({ order_id: '119', note: 'bad\nrow' });
    // A line with a field too many keeps its text whole, as the local backend keeps it.
    expect(rows[1]).toMatchObject({ row_number: 5, reason: 'malformed_row' });
    expect(JSON.parse(rows[1].raw_record)).toEqual({ line: '120,3,10,2025-10-28,20,1,late,surplus' });
  });
});
