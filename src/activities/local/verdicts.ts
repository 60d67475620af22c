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
import { COLUMNS, ENTITIES } from '../../shared/contract';
import type { QualityMeasurement } from '../../shared/quality';
import { duckdb } from '../../rules/dialect';
import { columnNames, gateStatement, verdictStatements } from '../../rules/verdicts';
import type { BronzeBatch } from './bronze';
import type { Lake } from './lake';
import { filesSignature } from './lake';
import type { IndexedBatch } from './references';
import { knownKeysSql, syncDimensionKeys } from './references';
import type { Sql } from './warehouse';
import { PARQUET_TYPED, ident, lit, runEach } from './warehouse';

/** Lineage packed in one sortable number: later file, then later row, is larger. */
export const ORD_SCALE = 10_000_000_000;

/**
 * Two renderings of the same rules for DuckDB. The grouped one finds exact copies and repeated keys
 * by a sort of the keys first, so a large batch streams through once instead of being sorted by window
 * partitions; its extra statements (temp tables among them) are fixed costs that dominate a small
 * batch, which the plain window form (Trino's and Spark's) judges in fewer. Both are proven to give
 * the same verdicts (test/parity: the local pipeline's small batches against the grouped rendering,
 * and both against Trino and Spark).
 */
const GROUPED = verdictStatements(duckdb);
const PLAIN = verdictStatements({ ...duckdb, groupsFirst: undefined });
/**
 * From this many bronze rows (its three entities together) a batch is large: the grouped form is the
 * quicker there (bench/local.ts), and its verdicts are streamed from Parquet, not held in memory.
 */
export const LARGE_FROM_ROWS = 100_000;
const GATE = gateStatement(duckdb);
/** Verdicts on record were computed by these statements; any change to the rules or their rendering makes them stale. */
const RULES_DIGEST = createHash('sha256')
  .update(JSON.stringify([GROUPED, PLAIN]))
  .digest('hex');
const INPUTS_FILE = '_inputs.json';

/**
 * The parts a batch's verdicts are kept in, each with what it depends on. A row's own checks depend on
 * its entity's bronze alone; an order's references also on the dimensions' verdicts and the keys of
 * earlier batches, which a backfill's earlier days may change between validate and transform. So an
 * entity with references keeps its rows' own verdict (`<entity>_keyed`: `keyed_reason`) beside the
 * whole one (`reason`) in its one file, and only the reference step is judged again when the keys
 * changed.
 */
interface Part {
  /** The relation it holds (`<entity>_verdicts`, `<entity>_keyed`); an entity's parts share `<entity>.parquet`. */
  relation: string;
  digest: string;
}

/** Entities whose verdicts read other relations than their own rows (their references). */
const REFERRING = new Set(ENTITIES.filter((e) => COLUMNS[e].some((c) => c.refersTo)));

const sha = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

function partsOf(known: IndexedBatch[], bronzeFiles: Record<Entity, string[]>): Part[] {
  const own = Object.fromEntries(ENTITIES.map((e) => [e, sha([RULES_DIGEST, e, filesSignature(bronzeFiles[e])])])) as Record<
    Entity,
    string
  >;
  const parts: Part[] = [];
  for (const entity of ENTITIES) {
    if (!REFERRING.has(entity)) {
      parts.push({ relation: `${entity}_verdicts`, digest: own[entity] });
      continue;
    }
    parts.push({ relation: `${entity}_keyed`, digest: own[entity] });
    const refs = [...new Set(COLUMNS[entity].flatMap((c) => (c.refersTo ? [c.refersTo] : [])))];
    const keys = known.filter((r) => refs.includes(r.entity)).map((r) => [r.entity, r.date, r.signature]);
    parts.push({ relation: `${entity}_verdicts`, digest: sha([own[entity], refs.map((r) => own[r]), keys]) });
  }
  return parts;
}

/** The digest each kept file was computed from, as `_inputs.json` records it. */
function recordedDigests(dir: string): Record<string, string> {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, INPUTS_FILE), 'utf8')) as { parts?: Record<string, string> }).parts ?? {};
  } catch {
    return {};
  }
}

/**
 * A kept part as the relation the stage reads. The gate and the transform read each verdict relation
 * many times: a small batch's is held in memory; a large one's stays a view, which DuckDB streams.
 */
function readPart(entity: Entity, file: string, small: boolean): string {
  const select = `SELECT ${keptColumns(entity, 'reason')} FROM read_parquet(${lit(file)})`;
  return `CREATE OR REPLACE TEMP ${small ? 'TABLE' : 'VIEW'} ${entity}_verdicts AS ${select}`;
}

/** The entity whose rows a statement's relation holds (`orders_checked` -> orders), if it is one of a batch's. */
function entityOf(name: string): Entity | undefined {
  return ENTITIES.find((e) => name.startsWith(`${e}_`));
}

/**
 * What the verdicts keep of a row: its lineage (`ord`), verdict and typed values. A rejected row's raw
 * values are read back from bronze by `ord` (the transform's rejects), so no row's raw text is
 * carried through the rules, which halves what they hold and write.
 */
function keptColumns(entity: Entity, ...reasons: ('reason' | 'keyed_reason')[]): string {
  return ['ord', 'copies', 'complete', ...columnNames(entity).map((c) => ident(`t_${c}`)), ...reasons].join(', ');
}

export interface OpenedVerdicts {
  /** True when every part of the verdicts on record was computed from the same inputs and read, not computed. */
  reused: boolean;
  /** How many parts (each entity's verdicts, and the own checks of those with references) were computed. */
  computed: number;
}

/**
 * Makes `<entity>_verdicts` (see src/rules/verdicts.ts) for the batch as views over its verdict
 * Parquet (`processed/_verdicts/batch_date=D/`), computing and writing each part first unless the
 * part on record was computed from the same inputs. So validate computes each row's verdict once and
 * the transform reads the same verdicts; a transform run without its validate, or after the bronze or
 * the rules changed, computes them afresh, and one after an earlier batch's dimensions changed judges
 * the references only. The views end with the write turn's connection; an empty bronze relation
 * gives empty verdicts.
 */
export async function openVerdicts(
  db: Sql,
  lake: Lake,
  runDate: string,
  bronze: Record<Entity, BronzeBatch>,
  options: { jobId: string; step?: (done: number) => void; largeFromRows?: number },
): Promise<OpenedVerdicts> {
  const small = ENTITIES.reduce((n, e) => n + bronze[e].rows, 0) < (options.largeFromRows ?? LARGE_FROM_ROWS);
  const statements = small ? PLAIN : GROUPED;
  const index = await syncDimensionKeys(db, lake);
  await runEach(db, [
    ...ENTITIES.map(
      (entity) =>
        `CREATE OR REPLACE TEMP VIEW raw_${entity} AS SELECT *, source_seq::BIGINT * ${ORD_SCALE} + source_row AS ord FROM ${bronze[entity].relation}`,
    ),
    ...(['customers', 'products'] as const).map(
      (entity) => `CREATE OR REPLACE TEMP VIEW known_${entity} AS ${knownKeysSql(entity, runDate)}`,
    ),
  ]);
  const parts = partsOf(
    index.filter((b) => b.date < runDate),
    Object.fromEntries(ENTITIES.map((e) => [e, bronze[e].files])) as Record<Entity, string[]>,
  );
  const dir = lake.verdictsDir(runDate);
  const recorded = recordedDigests(dir);
  const reusable = new Set(
    parts
      .filter((p) => recorded[p.relation] === p.digest && fs.existsSync(path.join(dir, `${entityOf(p.relation)}.parquet`)))
      .map((p) => p.relation),
  );
  if (reusable.size === parts.length) {
    await runEach(
      db,
      ENTITIES.map((entity) => readPart(entity, path.join(dir, `${entity}.parquet`), small)),
    );
    options.step?.(ENTITIES.length);
    return { reused: true, computed: 0 };
  }
  const staging = lake.stagingDir(`verdicts-${options.jobId}`);
  fs.mkdirSync(staging, { recursive: true });
  try {
    let done = 0;
    for (const entity of ENTITIES) {
      const file = `${entity}.parquet`;
      const kept = path.join(staging, file);
      const referring = REFERRING.has(entity);
      if (reusable.has(`${entity}_verdicts`)) {
        fs.linkSync(path.join(dir, file), kept);
        await db.run(readPart(entity, kept, small));
        options.step?.(++done);
        continue;
      }
      const own = statements.filter((st) => entityOf(st.name) === entity);
      const at = own.findIndex((st) => st.name === `${entity}_verdicts`);
      const earlier = path.join(staging, `${entity}.own.parquet`);
      let inlined: typeof own = [];
      if (referring && reusable.has(`${entity}_keyed`)) {
        // The rows' own verdicts on record still hold: only their references are judged again.
        fs.linkSync(path.join(dir, file), earlier);
        await db.run(
          `CREATE OR REPLACE TEMP VIEW ${entity}_keyed AS SELECT ${keptColumns(entity, 'keyed_reason')} FROM read_parquet(${lit(earlier)})`,
        );
      } else if (own.slice(0, at).some((st) => st.materialise)) {
        for (const st of own.slice(0, at)) {
          // What is marked to materialise (repeated keys, the few rows holding them) is computed once, as a table.
          await db.run(`CREATE OR REPLACE TEMP ${st.materialise ? 'TABLE' : 'VIEW'} ${st.name} AS ${st.select}`);
        }
      } else {
        // A chain of plain steps (the window form) runs as one statement: a small day pays for binding
        // each view twice (made, then read) more than for its rows.
        inlined = own.slice(0, at);
      }
      const ctes = inlined.length ? `WITH ${inlined.map((st) => `${st.name} AS (${st.select})`).join(', ')} ` : '';
      // Computed once, the own and the whole verdict together: a small batch's into memory and written
      // from there, a large one's written and read back.
      const select = `${ctes}SELECT ${referring ? keptColumns(entity, 'keyed_reason', 'reason') : keptColumns(entity, 'reason')} FROM (${own[at]!.select})`;
      if (small) {
        await runEach(db, [
          `CREATE OR REPLACE TEMP TABLE ${entity}_judged AS ${select}`,
          `COPY ${entity}_judged TO ${lit(kept)} ${PARQUET_TYPED}`,
          `CREATE OR REPLACE TEMP VIEW ${entity}_verdicts AS SELECT ${keptColumns(entity, 'reason')} FROM ${entity}_judged`,
        ]);
      } else {
        await runEach(db, [`COPY (${select}) TO ${lit(kept)} ${PARQUET_TYPED}`, readPart(entity, kept, small)]);
      }
      fs.rmSync(earlier, { force: true });
      options.step?.(++done);
    }
    const digests = Object.fromEntries(parts.map((p) => [p.relation, p.digest]));
    fs.writeFileSync(path.join(staging, INPUTS_FILE), `${JSON.stringify({ runDate, jobId: options.jobId, parts: digests })}\n`);
    lake.publish(staging, dir);
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  // Views over the staged files follow them to where they now are; tables hold their rows.
  if (!small)
    await runEach(
      db,
      ENTITIES.map((entity) => readPart(entity, path.join(dir, `${entity}.parquet`), small)),
    );
  return { reused: false, computed: parts.length - reusable.size };
}

/** The gate's measurements over built verdicts, in report order. */
export async function measureGate(db: Sql): Promise<QualityMeasurement[]> {
  const rows = await db.all(`SELECT entity, "check", value FROM (${GATE.select}) ORDER BY position`);
  return rows.map((r) => ({ entity: r.entity as Entity, check: r.check as QualityMeasurement['check'], value: Number(r.value) }));
}
