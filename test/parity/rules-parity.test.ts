/**
 * Twin backends, proven on real engines: the same batches through the local backend (DuckDB), the
 * Glue job's rendering of the rules (local PySpark) and Athena's (a real Trino 476 server) give
 * every row the same verdict, the same cleaned values and the same quality report, step after step
 * of a multi-day sequence with reruns. Athena's whole query, over tables shaped as the crawler makes
 * them, reports what the local validate stage reports.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qualityChecksSql, SHEETS_TABLE_PREFIX } from '../../src/activities/aws/validate-sql';
import { spark } from '../../src/rules/dialect';
import type { RulesModel } from '../../src/rules/verdicts';
import { columnNames, MODEL, ruleStatements } from '../../src/rules/verdicts';
import { rulesArtifact } from '../../src/rules/artifact';
import type { Entity } from '../../src/shared/contract';
import { ENTITIES } from '../../src/shared/contract';
import { DEFAULT_QUALITY_THRESHOLDS } from '../../src/shared/quality';
import type { LocalTestBackend } from '../local/support';
import { localConfig, open, runDay, tempDir } from '../local/support';
import type { TestTrino } from '../support/trino';
import { startTrino } from '../support/trino';
import type { EngineResult, RawRow, StepInputs } from './support/engines';
import { differences, inputsFromLake, runDuckdb, runSpark, runTrino } from './support/engines';
import { SEQUENCE } from './support/sequence';

interface StepRecord {
  inputs: StepInputs;
  /** What the local validate stage stored. */
  report: { entity: string; check: string; value: number }[];
  /** row:reason of the local transform's rejects, per entity. */
  rejects: Record<Entity, string[]>;
  /** Every cataloged date's raw rows at this step, as the crawler's tables would hold them. */
  crawled: Record<string, Record<Entity, RawRow[]>>;
  duck: EngineResult;
  trino?: EngineResult;
  spark?: EngineResult;
}

/** A model with one more range rule: products priced above 5 are out of range. */
const STRICTER: RulesModel = {
  ...MODEL,
  rangeRules: { ...MODEL.rangeRules, products: [...MODEL.rangeRules.products, { column: 'price', op: '<=', than: 5 }] },
};

describe('one model of the rules, the same verdicts on DuckDB, Spark and Trino', () => {
  let root: string;
  let trino: TestTrino;
  let a: LocalTestBackend;
  const steps: Record<string, StepRecord> = {};

  beforeAll(async () => {
    root = tempDir('parity');
    const trinoStarting = startTrino();
    const config = localConfig(root);
    a = open(config);
    const cataloged = new Set<string>();
    for (const step of SEQUENCE) {
      await step.write(config.lakeDir);
      await runDay(a, step.date, 1, `parity-${step.name}`);
      cataloged.add(step.date);
      const inputs = await inputsFromLake(config.lakeDir, step.date);
      const report = (
        await a.engine.query(`SELECT entity, "check", value FROM analytics.quality_reports WHERE run_date = DATE '${step.date}'`)
      ).map((r) => ({ entity: String(r.entity), check: String(r.check), value: Number(r.value) }));
      const rejects = {} as Record<Entity, string[]>;
      for (const e of ENTITIES) {
        const rows = await a.engine.query(
          `SELECT row_number, reason FROM read_parquet('${config.lakeDir}/processed/rejects/${e}/batch_date=${step.date}/*.parquet')`,
        );
        rejects[e] = rows.map((r) => `${Number(r.row_number)}:${String(r.reason)}`).sort();
      }
      const crawled: StepRecord['crawled'] = {};
      for (const date of cataloged) crawled[date] = date === step.date ? inputs.raw : (await inputsFromLake(config.lakeDir, date)).raw;
      steps[step.name] = { inputs, report, rejects, crawled, duck: await runDuckdb(inputs) };
    }
    trino = await trinoStarting;
    for (const s of Object.values(steps)) s.trino = await runTrino(trino, s.inputs);
    const artifact = path.join(root, 'rules.spark.json');
    fs.writeFileSync(artifact, JSON.stringify(rulesArtifact('spark')));
    const sparkResults = await runSpark(
      artifact,
      Object.fromEntries(Object.entries(steps).map(([n, s]) => [n, s.inputs])),
      path.join(root, 'spark'),
    );
    for (const [name, r] of Object.entries(sparkResults)) steps[name].spark = r;
  }, 600_000);

  afterAll(async () => {
    await a?.close();
    await trino?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it.each(SEQUENCE.map((s) => [s.name]))(
    'step %s: Trino and Spark give every row the verdict DuckDB gives, and the same report',
    (name) => {
      const s = steps[name];
      expect(s.duck.verdicts.orders.length).toBeGreaterThan(0);
      expect(differences(s.duck, s.trino as EngineResult, ['duckdb', 'trino'])).toEqual([]);
      expect(differences(s.duck, s.spark as EngineResult, ['duckdb', 'spark'])).toEqual([]);
    },
  );

  it.each(SEQUENCE.map((s) => [s.name]))('step %s: the local pipeline reported and rejected exactly what the rendering says', (name) => {
    const s = steps[name];
    const byKey = (q: { entity: string; check: string; value: number }[]) =>
      Object.fromEntries(q.map((x) => [`${x.entity}.${x.check}`, x.value]));
    const local = byKey(s.report);
    for (const [k, v] of Object.entries(byKey(s.duck.quality))) expect(local[k], k).toBeCloseTo(v, 9);
    for (const e of ENTITIES) {
      const rejected = s.duck.verdicts[e].filter((r) => r.reason !== null).map((r) => `${r.ord % 10_000_000_000}:${r.reason}`);
      expect(s.rejects[e], e).toEqual(rejected.sort());
    }
  });

  it('covers every reject reason and both exact copies and key conflicts somewhere in the sequence', () => {
    const seen = new Set<string>();
    let copies = 0;
    for (const s of Object.values(steps)) {
      for (const e of ENTITIES) {
        for (const r of s.duck.verdicts[e]) {
          if (r.reason) seen.add(r.reason);
          if (r.copies > 1) copies++;
        }
      }
    }
    expect([...seen].sort()).toEqual([
      'bad_date',
      'bad_number',
      'duplicate_key',
      'malformed_row',
      'missing_key',
      'out_of_range',
      'unknown_customer',
      'unknown_product',
    ]);
    expect(copies).toBeGreaterThan(0);
  });

  it.each(SEQUENCE.map((s) => [s.name]))(
    "step %s: Athena's whole query over crawler-shaped tables reports what local validate stored",
    async (name) => {
      const s = steps[name];
      // CSV rows are the crawler's tables; workbook rows are the catalog stage's converted sheets.
      await trino.run('CREATE SCHEMA IF NOT EXISTS memory.ecommerce_raw');
      for (const e of ENTITIES) {
        const cols = columnNames(e);
        for (const table of [e, `${SHEETS_TABLE_PREFIX}${e}`]) {
          await trino.run(`DROP TABLE IF EXISTS memory.ecommerce_raw.${table}`);
          await trino.run(
            `CREATE TABLE memory.ecommerce_raw.${table} (${cols.map((c) => `"${c}" varchar`).join(', ')}, partition_0 varchar)`,
          );
          const values: string[] = [];
          for (const [date, raw] of Object.entries(s.crawled)) {
            for (const r of raw[e]) {
              if (r.file.includes('.xlsx[') !== (table !== e)) continue;
              values.push(
                `(${[...cols.map((c) => r.cols[c] ?? null), date].map((v) => (v === null ? 'NULL' : `'${v.replace(/'/g, "''")}'`)).join(', ')})`,
              );
            }
          }
          if (values.length) await trino.run(`INSERT INTO memory.ecommerce_raw.${table} VALUES ${values.join(', ')}`);
        }
      }
      const date = SEQUENCE.find((x) => x.name === name)?.date as string;
      const res = await trino.query(qualityChecksSql('ecommerce_raw', date, DEFAULT_QUALITY_THRESHOLDS));
      const athena = Object.fromEntries(
        res.rows.map((r) => [`${String(r[0])}.${String(r[1])}`, { value: Number(r[2]), passed: Boolean(r[4]) }]),
      );
      expect(Object.keys(athena)).toHaveLength(s.report.length);
      for (const q of s.report) {
        expect(athena[`${q.entity}.${q.check}`]?.value, `${q.entity}.${q.check}`).toBeCloseTo(q.value, 9);
      }
    },
  );

  it('notices on purpose broken parity: Trino given a stricter range rule disagrees with DuckDB', async () => {
    const s = steps[SEQUENCE[0].name];
    const broken = await runTrino(trino, s.inputs, STRICTER);
    const found = differences(s.duck, broken, ['duckdb', 'trino']);
    expect(found.some((d) => /products row \d+ reason/.test(d))).toBe(true);
    expect(found.some((d) => d.startsWith('quality products.validity'))).toBe(true);
  });

  it('a rule added to the model reaches every engine: DuckDB, Trino and Spark reject the same products and their orders', async () => {
    const s = steps[SEQUENCE[0].name];
    const duck = await runDuckdb(s.inputs, STRICTER);
    const strictTrino = await runTrino(trino, s.inputs, STRICTER);
    const artifact = path.join(root, 'stricter.spark.json');
    fs.writeFileSync(artifact, JSON.stringify({ model: 'stricter', dialect: 'spark', statements: ruleStatements(spark, STRICTER) }));
    const strictSpark = (await runSpark(artifact, { stricter: s.inputs }, path.join(root, 'spark-stricter'))).stricter;
    expect(differences(duck, strictTrino, ['duckdb', 'trino'])).toEqual([]);
    expect(differences(duck, strictSpark, ['duckdb', 'spark'])).toEqual([]);
    // The rule changed verdicts: more products out of range, and orders of them now refer to no product.
    const count = (r: EngineResult, e: Entity, reason: string) => r.verdicts[e].filter((v) => v.reason === reason).length;
    expect(count(duck, 'products', 'out_of_range')).toBeGreaterThan(count(s.duck, 'products', 'out_of_range'));
    expect(count(duck, 'orders', 'unknown_product')).toBeGreaterThan(count(s.duck, 'orders', 'unknown_product'));
  }, 300_000);
});
