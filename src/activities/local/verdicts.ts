/**
 * The contract's per-row verdicts on DuckDB: the rendered rules of src/rules run over a batch's bronze
 * rows, once, for the validate stage (which reports the gate over them) and the transform (which
 * writes silver, rejects and gold from them). The transform reads the verdicts validate wrote, so the
 * report describes exactly the rows the transform accepts and rejects, and no row is judged twice.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Entity } from '../../shared/contract';
import { ENTITIES } from '../../shared/contract';
import type { QualityMeasurement } from '../../shared/quality';
import { duckdb } from '../../rules/dialect';
import { columnNames, gateStatement, verdictStatements } from '../../rules/verdicts';
import type { Lake } from './lake';
import { filesSignature } from './lake';
import { knownKeysSql, syncDimensionKeys } from './references';
import type { Sql } from './warehouse';
import { ident, lit } from './warehouse';

/** Lineage packed in one sortable number: later file, then later row, is larger. */
export const ORD_SCALE = 10_000_000_000;

const STATEMENTS = verdictStatements(duckdb);
const GATE = gateStatement(duckdb);
const VERDICTS = new Set(ENTITIES.map((e) => `${e}_verdicts`));
/** Verdicts on record were computed by these statements; any change to the rules or their rendering makes them stale. */
const RULES_DIGEST = createHash('sha256').update(JSON.stringify(STATEMENTS)).digest('hex');
const INPUTS_FILE = '_inputs.json';

/** What a batch's verdicts depend on: the rules, its bronze files, and the dimension batches before it. */
async function inputsDigest(db: Sql, runDate: string, bronzeFiles: Record<Entity, string[]>): Promise<string> {
  const known = await db.all(
    `SELECT entity, strftime(batch_date, '%Y-%m-%d') AS d, signature FROM bronze.dimension_key_batches
     WHERE batch_date < $1::DATE ORDER BY entity, batch_date`,
    [runDate],
  );
  const bronze = ENTITIES.map((e) => [e, filesSignature(bronzeFiles[e])]);
  const inputs = JSON.stringify({ rules: RULES_DIGEST, bronze, known: known.map((r) => [r.entity, r.d, r.signature]) });
  return createHash('sha256').update(inputs).digest('hex');
}

function recordedDigest(dir: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, INPUTS_FILE), 'utf8')) as { digest?: string }).digest;
  } catch {
    return undefined;
  }
}

async function viewsOver(db: Sql, dir: string): Promise<void> {
  for (const entity of ENTITIES) {
    await db.run(
      `CREATE OR REPLACE TEMP VIEW ${entity}_verdicts AS SELECT * FROM read_parquet(${lit(path.join(dir, `${entity}.parquet`))})`,
    );
  }
}

/**
 * What the verdicts keep of a row: its lineage (`ord`), verdict and typed values. A rejected row's raw
 * values are read back from bronze by `ord` (the transform's rejects), so no row's raw text is
 * carried through the rules, which halves what they hold and write.
 */
function keptColumns(entity: Entity): string {
  return ['ord', 'copies', 'complete', ...columnNames(entity).map((c) => ident(`t_${c}`)), 'reason'].join(', ');
}

/** The entity whose rows a statement's relation holds (`orders_checked` -> orders), if it is one of a batch's. */
function entityOf(name: string): Entity | undefined {
  return ENTITIES.find((e) => name.startsWith(`${e}_`));
}

export interface OpenedVerdicts {
  /** True when the verdicts on record were computed from the same inputs and read, not computed. */
  reused: boolean;
}

/**
 * Makes `<entity>_verdicts` (see src/rules/verdicts.ts) for the batch as views over its verdict
 * Parquet (`processed/_verdicts/batch_date=D/`), computing and writing that first unless the
 * verdicts on record were computed from the same inputs. So validate computes each row's verdict
 * once and the transform reads the same verdicts, and a transform run without its validate (or after
 * the bronze, an earlier batch's dimensions or the rules changed) computes them afresh.
 * `dropVerdicts` removes the views; an empty bronze relation gives empty verdicts.
 */
export async function openVerdicts(
  db: Sql,
  lake: Lake,
  runDate: string,
  bronze: Record<Entity, { relation: string; files: string[] }>,
  options: { jobId: string; step?: (done: number) => void },
): Promise<OpenedVerdicts> {
  for (const entity of ENTITIES) {
    await db.run(
      `CREATE OR REPLACE TEMP VIEW raw_${entity} AS SELECT *, source_seq::BIGINT * ${ORD_SCALE} + source_row AS ord FROM ${bronze[entity].relation}`,
    );
  }
  for (const entity of ['customers', 'products'] as const) {
    await syncDimensionKeys(db, lake, entity);
    await db.run(`CREATE OR REPLACE TEMP VIEW known_${entity} AS ${knownKeysSql(entity, runDate)}`);
  }
  const digest = await inputsDigest(db, runDate, Object.fromEntries(ENTITIES.map((e) => [e, bronze[e].files])) as Record<Entity, string[]>);
  const dir = lake.verdictsDir(runDate);
  if (recordedDigest(dir) === digest && ENTITIES.every((e) => fs.existsSync(path.join(dir, `${e}.parquet`)))) {
    await viewsOver(db, dir);
    options.step?.(ENTITIES.length);
    return { reused: true };
  }
  const staging = lake.stagingDir(`verdicts-${options.jobId}`);
  try {
    let done = 0;
    for (const s of STATEMENTS) {
      const entity = entityOf(s.name);
      if (VERDICTS.has(s.name) && entity) {
        // Written once and read back: the orders' references and the gate read the dimensions' verdicts.
        const file = path.join(staging, `${entity}.parquet`);
        await db.run(`COPY (SELECT ${keptColumns(entity)} FROM (${s.select})) TO ${lit(file)} (FORMAT parquet, COMPRESSION snappy)`);
        await db.run(`CREATE OR REPLACE TEMP VIEW ${s.name} AS SELECT * FROM read_parquet(${lit(file)})`);
        options.step?.(++done);
      } else if (s.materialise) {
        // Small relations read more than once (repeated rows and keys): computed once.
        await db.run(`CREATE OR REPLACE TEMP TABLE ${s.name} AS ${s.select}`);
      } else {
        await db.run(`CREATE OR REPLACE TEMP VIEW ${s.name} AS ${s.select}`);
      }
    }
    fs.writeFileSync(path.join(staging, INPUTS_FILE), `${JSON.stringify({ runDate, digest, jobId: options.jobId })}\n`);
    lake.publish(staging, dir);
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  await viewsOver(db, dir);
  return { reused: false };
}

export async function dropVerdicts(db: Sql): Promise<void> {
  // A statement is a table in the run that computed the verdicts and a view in one that read them.
  const tables = new Set((await db.all('SELECT table_name FROM duckdb_tables() WHERE temporary')).map((r) => String(r.table_name)));
  for (const s of [...STATEMENTS].reverse()) await db.run(`DROP ${tables.has(s.name) ? 'TABLE' : 'VIEW'} IF EXISTS ${s.name}`);
  for (const entity of ['customers', 'products']) await db.run(`DROP VIEW IF EXISTS known_${entity}`);
  for (const entity of ENTITIES) await db.run(`DROP VIEW IF EXISTS raw_${entity}`);
}

/** The gate's measurements over built verdicts, in report order. */
export async function measureGate(db: Sql): Promise<QualityMeasurement[]> {
  const rows = await db.all(`SELECT entity, "check", value FROM (${GATE.select}) ORDER BY position`);
  return rows.map((r) => ({ entity: r.entity as Entity, check: r.check as QualityMeasurement['check'], value: Number(r.value) }));
}
