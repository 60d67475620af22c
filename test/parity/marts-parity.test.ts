/**
 * The marts on the twin backends, step after step of the parity sequence (three days, then two
 * reruns): the local backend (DuckDB transform and warehouse) on one side; on the other the Glue job
 * (local PySpark) over the same raw files, its Parquet staged as Redshift COPY stages it and
 * load.sql run on PostgreSQL. After every step the gold marts of the step's batch and the warehouse
 * marts (agg_daily_sales, product_performance, customer_analytics) are equal on both sides, and
 * equal to what an independent oracle computes from the warehouse's facts.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Client, types } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rulesArtifactText, rulesFileName } from '../../src/rules/artifact';
import { CUSTOMER_ANALYTICS, DAILY_SALES, GOLD_MARTS, martColumns, PRODUCT_PERFORMANCE } from '../../src/rules/marts';
import { ENTITIES } from '../../src/shared/contract';
import type { LocalTestBackend } from '../local/support';
import { localConfig, open, runDay, tempDir } from '../local/support';
import { copyParquet } from '../redshift/support/copy';
import type { TestPostgres } from '../redshift/support/postgres';
import { startPostgres } from '../redshift/support/postgres';
import { createWarehouse, runLoad, SCHEMA } from '../redshift/support/warehouse';
import type { Fact, TextRow } from './support/marts-oracle';
import { customerAnalytics, productPerformance } from './support/marts-oracle';
import { SEQUENCE } from './support/sequence';

types.setTypeParser(types.builtins.DATE, (v) => v);

const WAREHOUSE_MARTS = [DAILY_SALES, PRODUCT_PERFORMANCE, CUSTOMER_ANALYTICS];
const FACT_COLUMNS = ['order_id', 'customer_id', 'product_id', 'order_date', 'order_amount', 'quantity'];

/** One side's marts after a step: each warehouse mart, and each gold mart of the step's batch. */
interface Marts {
  warehouse: Record<string, TextRow[]>;
  gold: Record<string, TextRow[]>;
}

interface StepRecord {
  local: Marts;
  aws?: Marts;
  facts: Fact[];
  asOf: string;
}

const sortRows = (rows: TextRow[]) => rows.sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
const asText = (r: Record<string, unknown>, columns: string[]): TextRow =>
  Object.fromEntries(columns.map((c) => [c, r[c] === null || r[c] === undefined ? '' : String(r[c])]));

function runGlueSequence(args: string[]): Promise<void> {
  const script = path.join(__dirname, 'support', 'glue_sequence.py');
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SPARK_LOCAL_IP: '127.0.0.1', PYTHONDONTWRITEBYTECODE: '1' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`glue_sequence.py exited ${code}:\n${output.slice(-4000)}`))));
  });
}

describe('the marts on both backends, after every step of a sequence with reruns', () => {
  let root: string;
  let a: LocalTestBackend;
  let pg: TestPostgres;
  let db: Client;
  let duck: DuckDBInstance;
  const steps: Record<string, StepRecord> = {};

  const localRows = async (from: string, columns: string[]) =>
    sortRows(
      (await a.engine.query(`SELECT ${columns.map((c) => `CAST(${c} AS VARCHAR) AS ${c}`).join(', ')} FROM ${from}`)).map((r) =>
        asText(r, columns),
      ),
    );
  const parquetRows = async (folder: string, columns: string[]) => {
    const conn = await duck.connect();
    try {
      const cols = columns.map((c) => `CAST(${c} AS VARCHAR) AS ${c}`).join(', ');
      const reader = await conn.runAndReadAll(`SELECT ${cols} FROM read_parquet('${folder}/*.parquet')`);
      return sortRows(reader.getRowObjectsJS().map((r) => asText(r, columns)));
    } finally {
      conn.closeSync();
    }
  };

  beforeAll(async () => {
    root = tempDir('marts-parity');
    const pgStarting = startPostgres();
    const config = localConfig(root);
    a = open(config);
    duck = await DuckDBInstance.create(':memory:');
    const glueSteps: { name: string; date: string; raw: string }[] = [];
    for (const step of SEQUENCE) {
      await step.write(config.lakeDir);
      await runDay(a, step.date, 1, `marts-${step.name}`);
      // The step's raw files as the Glue job will read them (the next step rewrites the lake's).
      const raw = path.join(root, 'aws-raw', step.name);
      for (const e of ENTITIES)
        fs.cpSync(path.join(config.lakeDir, 'raw', e, step.date), path.join(raw, 'raw', e, step.date), { recursive: true });
      glueSteps.push({ name: step.name, date: step.date, raw });
      const warehouse: Marts['warehouse'] = {};
      for (const mart of WAREHOUSE_MARTS) warehouse[mart.table] = await localRows(`analytics.${mart.table}`, martColumns(mart));
      const gold: Marts['gold'] = {};
      for (const mart of GOLD_MARTS) {
        gold[mart.table] = await localRows(`read_parquet('${a.engine.lake.tableDir('gold', mart.table, step.date)}/*.parquet')`, [
          ...martColumns(mart),
          'batch_date',
        ]);
      }
      const facts = (await localRows('analytics.fact_orders', FACT_COLUMNS)) as unknown as Fact[];
      const asOf = String((await a.engine.query('SELECT CAST(max(batch_date) AS VARCHAR) AS d FROM analytics.load_audit'))[0].d);
      steps[step.name] = { local: { warehouse, gold }, facts, asOf };
    }

    const rules = path.join(root, rulesFileName());
    fs.writeFileSync(rules, rulesArtifactText('spark'));
    const stepsFile = path.join(root, 'steps.json');
    fs.writeFileSync(stepsFile, JSON.stringify(glueSteps));
    const snapshots = path.join(root, 'glue-snapshots');
    const [started] = await Promise.all([pgStarting, runGlueSequence([rules, stepsFile, path.join(root, 'glue-processed'), snapshots])]);
    pg = started;
    db = new Client({ host: pg.host, port: pg.port, user: pg.user, database: pg.database });
    await db.connect();
    await createWarehouse(db);
    for (const step of glueSteps) {
      const out = path.join(snapshots, step.name);
      await runLoad(db, step.date, (copy) => copyParquet(db, duck, copy.table, path.join(out, copy.source, `batch_date=${step.date}`)));
      const warehouse: Marts['warehouse'] = {};
      for (const mart of WAREHOUSE_MARTS) {
        const columns = martColumns(mart);
        const { rows } = await db.query(
          `SELECT ${columns.map((c) => `CAST(${c} AS TEXT) AS ${c}`).join(', ')} FROM ${SCHEMA}.${mart.table}`,
        );
        warehouse[mart.table] = sortRows(rows.map((r: Record<string, unknown>) => asText(r, columns)));
      }
      const gold: Marts['gold'] = {};
      for (const mart of GOLD_MARTS) {
        gold[mart.table] = await parquetRows(path.join(out, 'gold', mart.table, `batch_date=${step.date}`), [
          ...martColumns(mart),
          'batch_date',
        ]);
      }
      steps[step.name].aws = { warehouse, gold };
    }
  }, 1_200_000);

  afterAll(async () => {
    await a?.close();
    duck?.closeSync();
    await db?.end();
    await pg?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it.each(SEQUENCE.map((s) => [s.name]))("step %s: the Glue job's gold marts of the batch equal the local transform's", (name) => {
    const { local, aws } = steps[name];
    expect(local.gold.agg_daily_sales.length).toBeGreaterThan(0);
    for (const mart of GOLD_MARTS) expect(aws?.gold[mart.table], mart.table).toEqual(local.gold[mart.table]);
  });

  it.each(SEQUENCE.map((s) => [s.name]))("step %s: Redshift's marts (load.sql on PostgreSQL) equal the local warehouse's", (name) => {
    const { local, aws } = steps[name];
    for (const mart of WAREHOUSE_MARTS) expect(aws?.warehouse[mart.table], mart.table).toEqual(local.warehouse[mart.table]);
  });

  it.each(SEQUENCE.map((s) => [s.name]))("step %s: the warehouse's marts are what the oracle computes from its facts", (name) => {
    const { local, facts, asOf } = steps[name];
    expect(local.warehouse.product_performance).toEqual(sortRows(productPerformance(facts)));
    expect(local.warehouse.customer_analytics).toEqual(sortRows(customerAnalytics(facts, asOf)));
  });

  it('went through what the marts must follow: reruns move rows, the as-of date stays the latest, several segments', () => {
    const names = SEQUENCE.map((s) => s.name);
    const last = steps[names[names.length - 1]].local.warehouse;
    // after D3, the reruns of D2 and D1 leave customer analytics as of D3
    expect(new Set(names.slice(2).map((n) => steps[n].asOf))).toEqual(new Set([SEQUENCE[2].date]));
    expect(new Set(last.customer_analytics.map((r) => r.as_of_date))).toEqual(new Set([SEQUENCE[2].date]));
    expect(new Set(last.customer_analytics.map((r) => r.segment)).size).toBeGreaterThanOrEqual(3);
    // the D2 rerun changed product performance (order 201's quantity, order 204 gone)
    expect(steps[names[3]].local.warehouse.product_performance).not.toEqual(steps[names[2]].local.warehouse.product_performance);
  });
});
