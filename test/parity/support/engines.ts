/**
 * The rules' renderings run on their real engines over the same inputs: DuckDB (in process), Trino
 * (a real server, Athena engine v3's SQL) and Spark (local PySpark, the Glue job's SQL), each giving
 * every row's verdict and the quality report in one comparable shape.
 *
 * Inputs are the relations src/rules/verdicts.ts reads: a batch's raw rows (contract columns as text,
 * malformed_line, ord) and the keys accepted in earlier batches.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Entity } from '../../../src/shared/contract';
import { ENTITIES, ROW_REASONS } from '../../../src/shared/contract';
import type { Dialect } from '../../../src/rules/dialect';
import { duckdb, trino as trinoDialect } from '../../../src/rules/dialect';
import type { RulesModel } from '../../../src/rules/verdicts';
import { asOneQuery, columnNames, MODEL, ruleStatements } from '../../../src/rules/verdicts';
import { bronzeWithRows } from '../../../src/activities/local/bronze';
import type { TestTrino } from '../../support/trino';

export type Dim = 'customers' | 'products';
/** A raw row: its text values by column (contract columns and malformed_line) and its lineage order. */
export interface RawRow {
  ord: number;
  /** The source file's name in the partition (`book.xlsx[Sheet]` for a sheet). */
  file: string;
  cols: Record<string, string | null>;
}

export interface StepInputs {
  raw: Record<Entity, RawRow[]>;
  known: Record<Dim, number[]>;
}

export interface VerdictRow {
  ord: number;
  reason: string | null;
  complete: boolean;
  copies: number;
  /** t_<column> as text, NULL as null. */
  typed: Record<string, string | null>;
}

export interface EngineResult {
  verdicts: Record<Entity, VerdictRow[]>;
  quality: { entity: string; check: string; value: number }[];
}

const rawColumns = (e: Entity) => [...columnNames(e), 'malformed_line'];

const sqlText = (v: string | null) => (v === null ? 'NULL' : `'${v.replace(/'/g, "''")}'`);

/** Reads a batch's inputs from a local lake after its catalog run: bronze rows and earlier gold keys. */
export async function inputsFromLake(lakeDir: string, runDate: string): Promise<StepInputs> {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    const raw = {} as Record<Entity, RawRow[]>;
    for (const e of ENTITIES) {
      const dir = path.join(lakeDir, 'processed', 'bronze', e, `batch_date=${runDate}`);
      const scan = bronzeWithRows(`read_parquet('${dir}/*.parquet', union_by_name=true)`);
      const cols = columnNames(e)
        .map((c) => `"${c}"`)
        .join(', ');
      const reader = await db.runAndReadAll(
        `SELECT ${cols}, malformed_line, source_file, source_seq::BIGINT * 10000000000 + source_row AS ord FROM ${scan} ORDER BY ord`,
      );
      raw[e] = reader
        .getRowObjectsJS()
        .map((r) => ({ cols: r as Record<string, string | null>, ord: Number(r.ord), file: String(r.source_file) }));
    }
    const known = {} as Record<Dim, number[]>;
    for (const [dim, table, key] of [
      ['customers', 'dim_customers', 'customer_id'],
      ['products', 'dim_products', 'product_id'],
    ] as const) {
      const root = path.join(lakeDir, 'processed', 'gold', table);
      const earlier = fs.existsSync(root)
        ? fs.readdirSync(root).filter((d) => d.startsWith('batch_date=') && d < `batch_date=${runDate}`)
        : [];
      known[dim] = [];
      for (const d of earlier) {
        const reader = await db.runAndReadAll(`SELECT DISTINCT ${key}::BIGINT AS k FROM read_parquet('${path.join(root, d)}/*.parquet')`);
        known[dim].push(...reader.getRowObjectsJS().map((r) => Number(r.k)));
      }
      known[dim] = [...new Set(known[dim])].sort((x, y) => x - y);
    }
    return { raw, known };
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

async function createInputs(db: DuckDBConnection, inputs: StepInputs): Promise<void> {
  for (const e of ENTITIES) {
    const cols = rawColumns(e);
    await db.run(`CREATE OR REPLACE TABLE raw_${e} (${cols.map((c) => `"${c}" VARCHAR`).join(', ')}, ord BIGINT)`);
    for (let i = 0; i < inputs.raw[e].length; i += 500) {
      const rows = inputs.raw[e].slice(i, i + 500).map((r) => `(${cols.map((c) => sqlText(r.cols[c] ?? null)).join(', ')}, ${r.ord})`);
      await db.run(`INSERT INTO raw_${e} VALUES ${rows.join(', ')}`);
    }
  }
  for (const dim of ['customers', 'products'] as const) {
    await db.run(`CREATE OR REPLACE TABLE known_${dim} (k BIGINT)`);
    if (inputs.known[dim].length) await db.run(`INSERT INTO known_${dim} VALUES ${inputs.known[dim].map((k) => `(${k})`).join(', ')}`);
  }
}

const verdictSelect = (d: Dialect, e: Entity, varchar: string) =>
  `SELECT ord, reason, complete, copies, ${columnNames(e)
    .map((c) => `CAST(${d.ident(`t_${c}`)} AS ${varchar}) AS ${d.ident(`t_${c}`)}`)
    .join(', ')} FROM ${e}_verdicts ORDER BY ord`;

function toVerdicts(e: Entity, rows: Record<string, unknown>[]): VerdictRow[] {
  return rows.map((r) => ({
    ord: Number(r.ord),
    reason: (r.reason as string | null) ?? null,
    complete: Boolean(r.complete),
    copies: Number(r.copies),
    typed: Object.fromEntries(columnNames(e).map((c) => [`t_${c}`, (r[`t_${c}`] as string | null) ?? null])),
  }));
}

const toQuality = (rows: Record<string, unknown>[]) =>
  rows.map((r) => ({ entity: String(r.entity), check: String(r.check), value: Number(r.value) }));

/** The DuckDB rendering (or a variant of its dialect), in an in-memory database of its own. */
export async function runDuckdb(inputs: StepInputs, model: RulesModel = MODEL, dialect: Dialect = duckdb): Promise<EngineResult> {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    await createInputs(db, inputs);
    for (const s of ruleStatements(dialect, model)) await db.run(`CREATE TABLE ${s.name} AS ${s.select}`);
    const verdicts = {} as Record<Entity, VerdictRow[]>;
    for (const e of ENTITIES) verdicts[e] = toVerdicts(e, (await db.runAndReadAll(verdictSelect(dialect, e, 'VARCHAR'))).getRowObjectsJS());
    const quality = toQuality(
      (await db.runAndReadAll('SELECT entity, "check", value FROM quality_report ORDER BY position')).getRowObjectsJS(),
    );
    return { verdicts, quality };
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

/** Writes a step's inputs as the Parquet files the Spark runner reads. */
export async function writeInputsParquet(inputs: StepInputs, dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    await createInputs(db, inputs);
    for (const name of [...ENTITIES.map((e) => `raw_${e}`), 'known_customers', 'known_products']) {
      await db.run(`COPY ${name} TO '${path.join(dir, `${name}.parquet`)}' (FORMAT parquet)`);
    }
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

/** The Trino rendering as one query per output, over memory tables holding the inputs. */
export async function runTrino(trino: TestTrino, inputs: StepInputs, model: RulesModel = MODEL): Promise<EngineResult> {
  for (const e of ENTITIES) {
    const cols = rawColumns(e);
    await trino.run(`DROP TABLE IF EXISTS raw_${e}`);
    await trino.run(`CREATE TABLE raw_${e} (${cols.map((c) => `"${c}" varchar`).join(', ')}, ord bigint)`);
    for (let i = 0; i < inputs.raw[e].length; i += 500) {
      const rows = inputs.raw[e]
        .slice(i, i + 500)
        .map((r) => `(${cols.map((c) => sqlText(r.cols[c] ?? null)).join(', ')}, BIGINT '${r.ord}')`);
      await trino.run(`INSERT INTO raw_${e} VALUES ${rows.join(', ')}`);
    }
  }
  for (const dim of ['customers', 'products'] as const) {
    await trino.run(`DROP TABLE IF EXISTS known_${dim}`);
    await trino.run(`CREATE TABLE known_${dim} (k bigint)`);
    if (inputs.known[dim].length)
      await trino.run(`INSERT INTO known_${dim} VALUES ${inputs.known[dim].map((k) => `(BIGINT '${k}')`).join(', ')}`);
  }
  const statements = ruleStatements(trinoDialect, model);
  const query = async (final: string) => {
    const res = await trino.query(asOneQuery(statements, final));
    return res.rows.map((row) => Object.fromEntries(res.columns.map((c, i) => [c.name, row[i]])));
  };
  const verdicts = {} as Record<Entity, VerdictRow[]>;
  for (const e of ENTITIES) verdicts[e] = toVerdicts(e, await query(verdictSelect(trinoDialect, e, 'varchar')));
  const quality = toQuality(await query('SELECT entity, "check", value FROM quality_report ORDER BY position'));
  return { verdicts, quality };
}

/** The Spark rendering on local PySpark: one JVM for every step; results by step name. */
export async function runSpark(
  artifactFile: string,
  steps: Record<string, StepInputs>,
  workDir: string,
): Promise<Record<string, EngineResult>> {
  const inDir = path.join(workDir, 'in');
  const outDir = path.join(workDir, 'out');
  for (const [name, inputs] of Object.entries(steps)) await writeInputsParquet(inputs, path.join(inDir, name));
  const script = path.join(__dirname, 'spark_rules.py');
  await new Promise<void>((resolve, reject) => {
    const child = spawn('python3', [script, artifactFile, inDir, outDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`spark_rules.py exited ${code}:\n${output.slice(-4000)}`))));
  });
  const out: Record<string, EngineResult> = {};
  for (const name of Object.keys(steps)) {
    const parsed = JSON.parse(fs.readFileSync(path.join(outDir, `${name}.json`), 'utf8')) as {
      verdicts: Record<Entity, Record<string, unknown>[]>;
      quality: Record<string, unknown>[];
    };
    const verdicts = {} as Record<Entity, VerdictRow[]>;
    for (const e of ENTITIES) verdicts[e] = toVerdicts(e, parsed.verdicts[e]);
    out[name] = { verdicts, quality: toQuality(parsed.quality) };
  }
  return out;
}

/** Every difference between two engines' results, as readable lines (empty when they agree to 1e-9). */
export function differences(a: EngineResult, b: EngineResult, names: [string, string]): string[] {
  const out: string[] = [];
  for (const e of ENTITIES) {
    const rowsA = new Map(a.verdicts[e].map((r) => [r.ord, r]));
    const rowsB = new Map(b.verdicts[e].map((r) => [r.ord, r]));
    for (const ord of new Set([...rowsA.keys(), ...rowsB.keys()])) {
      const [x, y] = [rowsA.get(ord), rowsB.get(ord)];
      if (!x || !y) {
        out.push(`${e} row ${ord}: only in ${x ? names[0] : names[1]}`);
        continue;
      }
      // Typed values mean something only for rows that passed checks 0-4 (engines may cast a
      // rejected '1.5' to 2, 1 or NULL); nothing of such a row but its raw record leaves the engine.
      const typedMatters = !(ROW_REASONS as readonly (string | null)[]).includes(x.reason);
      const fields: [string, unknown, unknown][] = [
        ['reason', x.reason, y.reason],
        ['complete', x.complete, y.complete],
        ['copies', x.copies, y.copies],
        ...(typedMatters ? Object.keys(x.typed).map((k): [string, unknown, unknown] => [k, x.typed[k], y.typed[k]]) : []),
      ];
      for (const [field, vx, vy] of fields)
        if (vx !== vy) out.push(`${e} row ${ord} ${field}: ${names[0]} ${JSON.stringify(vx)}, ${names[1]} ${JSON.stringify(vy)}`);
    }
  }
  const qa = new Map(a.quality.map((q) => [`${q.entity}.${q.check}`, q.value]));
  const qb = new Map(b.quality.map((q) => [`${q.entity}.${q.check}`, q.value]));
  for (const k of new Set([...qa.keys(), ...qb.keys()])) {
    const [x, y] = [qa.get(k), qb.get(k)];
    if (x === undefined || y === undefined || Math.abs(x - y) > 1e-9) out.push(`quality ${k}: ${names[0]} ${x}, ${names[1]} ${y}`);
  }
  return out;
}
