/**
 * The contract's per-row verdicts on DuckDB: the rendered rules of src/rules run over a batch's bronze
 * rows, for the validate stage (which reports the gate over them) and the transform (which writes
 * silver, rejects and gold from them). Both read the same statements, so the report describes exactly
 * the rows the transform accepts and rejects.
 */
import type { Entity } from '../../shared/contract';
import { COLUMNS, ENTITIES } from '../../shared/contract';
import type { QualityMeasurement } from '../../shared/quality';
import { duckdb } from '../../rules/dialect';
import { gateStatement, verdictStatements } from '../../rules/verdicts';
import type { Lake } from './lake';
import { knownKeysSql, syncDimensionKeys } from './references';
import type { Sql } from './warehouse';
import { ident, listLit } from './warehouse';

/** Lineage packed in one sortable number: later file, then later row, is larger. */
export const ORD_SCALE = 10_000_000_000;

export function bronzeFiles(lake: Lake, entity: Entity, runDate: string): string[] {
  return lake.parquetFiles(lake.tableDir('bronze', entity, runDate));
}

/**
 * A batch's bronze Parquet as one relation. Bronze written before malformed rows were kept has no
 * `malformed_line` column; it reads as NULL there, so such a batch can still be validated and
 * transformed without a new catalog run.
 */
export async function bronzeRelation(db: Sql, files: string[]): Promise<string> {
  const scan = `read_parquet(${listLit(files)}, union_by_name=true)`;
  if (files.length === 0) return scan;
  const columns = await db.all(`DESCRIBE SELECT * FROM ${scan}`);
  return columns.some((c) => c.column_name === 'malformed_line') ? scan : `(SELECT *, NULL::VARCHAR AS malformed_line FROM ${scan})`;
}

const STATEMENTS = verdictStatements(duckdb);
const GATE = gateStatement(duckdb);
/** Relations read more than once are tables; the steps between them stay views. */
const MATERIALISED = new Set(ENTITIES.map((e) => `${e}_verdicts`));

const GATE_COLUMNS: Record<string, string> = Object.fromEntries(
  ENTITIES.map((e) => [
    `${e}_verdicts`,
    ['reason', 'complete', ...COLUMNS[e].filter((c) => c.key || c.refersTo).map((c) => ident(`t_${c.name}`))].join(', '),
  ]),
);

/**
 * Builds `<entity>_verdicts` for the batch (see src/rules/verdicts.ts) as temp tables; `dropVerdicts`
 * removes them. An empty bronze relation gives empty verdicts.
 */
export async function buildVerdicts(
  db: Sql,
  lake: Lake,
  runDate: string,
  bronze: Record<Entity, string>,
  options: { step?: (done: number) => void; forGate?: boolean } = {},
): Promise<void> {
  for (const entity of ENTITIES) {
    await db.run(
      `CREATE OR REPLACE TEMP VIEW raw_${entity} AS SELECT *, source_seq::BIGINT * ${ORD_SCALE} + source_row AS ord FROM ${bronze[entity]}`,
    );
  }
  for (const entity of ['customers', 'products'] as const) {
    await syncDimensionKeys(db, lake, entity);
    await db.run(`CREATE OR REPLACE TEMP VIEW known_${entity} AS ${knownKeysSql(entity, runDate)}`);
  }
  let done = 0;
  for (const s of STATEMENTS) {
    const kind = MATERIALISED.has(s.name) ? 'TABLE' : 'VIEW';
    // The gate needs only the verdict and the keys references are judged by; DuckDB then skips the rest.
    const select = kind === 'TABLE' && options.forGate ? `SELECT ${GATE_COLUMNS[s.name]} FROM (${s.select})` : s.select;
    await db.run(`CREATE OR REPLACE TEMP ${kind} ${s.name} AS ${select}`);
    if (kind === 'TABLE') options.step?.(++done);
  }
}

export async function dropVerdicts(db: Sql): Promise<void> {
  for (const s of [...STATEMENTS].reverse()) await db.run(`DROP ${MATERIALISED.has(s.name) ? 'TABLE' : 'VIEW'} IF EXISTS ${s.name}`);
  for (const entity of ['customers', 'products']) await db.run(`DROP VIEW IF EXISTS known_${entity}`);
  for (const entity of ENTITIES) await db.run(`DROP VIEW IF EXISTS raw_${entity}`);
}

/** The gate's measurements over built verdicts, in report order. */
export async function measureGate(db: Sql): Promise<QualityMeasurement[]> {
  const rows = await db.all(`SELECT entity, "check", value FROM (${GATE.select}) ORDER BY position`);
  return rows.map((r) => ({ entity: r.entity as Entity, check: r.check as QualityMeasurement['check'], value: Number(r.value) }));
}
