/**
 * The data contract's per-row verdicts and the quality gate, rendered for one engine from the model
 * in src/shared (columns, range rules, references, reasons, gate formulas). Every backend runs these
 * statements, so the same batch gets the same verdicts and the same report everywhere.
 *
 * The renderer's inputs and outputs are named relations, so each engine materialises them its own
 * way (DuckDB temp tables, Spark temp views, one Trino WITH query):
 *
 *   in   raw_<entity>       the batch's rows: each contract column as text (NULL when the file lacks
 *                           it), `malformed_line` (the text of a line that did not split, else NULL)
 *                           and `ord`, unique per row and larger for a later row in file order
 *   in   known_<entity>     keys `k` of the dimension rows accepted in EARLIER batches
 *   out  <entity>_verdicts  one row per record after exact copies collapse onto their last copy:
 *                           the input columns, `t_<column>` (cleaned and typed), `complete`, `reason`
 *                           (the first failing check, NULL when accepted) and `copies` (rows collapsed
 *                           onto it, itself included)
 *   out  quality_report     entity, check, value: the gate's formulas over the verdicts
 */
import type { ColumnSpec, Entity, RangeRule } from '../shared/contract';
import { COLUMNS, ENTITIES, MONEY, RANGE_RULES, UNKNOWN_REFERENCE_REASON } from '../shared/contract';
import type { GateFormula, RowSet } from '../shared/quality';
import { GATE_FORMULAS } from '../shared/quality';
import type { Dialect } from './dialect';
import { WS } from './dialect';

const INT = `${WS}*[+-]?[0-9]+${WS}*`;
const DECIMAL = `${WS}*[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)${WS}*`;
const DATE = `${WS}*[0-9]{4}-[0-9]{2}-[0-9]{2}${WS}*`;
const BLANK = `${WS}*`;

/** The parts of the contract the rules are rendered from; a test may render a changed copy. */
export interface RulesModel {
  columns: Record<Entity, readonly ColumnSpec[]>;
  rangeRules: Record<Entity, readonly RangeRule[]>;
  gate: readonly GateFormula[];
}

export const MODEL: RulesModel = { columns: COLUMNS, rangeRules: RANGE_RULES, gate: GATE_FORMULAS };

export interface Statement {
  /** The relation it defines. */
  name: string;
  select: string;
  /**
   * Read more than once by the statements after it: an engine that evaluates a view at every
   * reference (DuckDB, Spark) should materialise it (a temp table, a cached frame) to compute it once.
   */
  materialise?: boolean;
}

export const columnNames = (entity: Entity): string[] => COLUMNS[entity].map((c) => c.name);

const rawColList = (model: RulesModel, entity: Entity, d: Dialect) => [
  ...model.columns[entity].map((c) => d.ident(c.name)),
  'malformed_line',
];

function keyOf(model: RulesModel, entity: Entity): string {
  const key = model.columns[entity].find((c) => c.key);
  if (!key) throw new Error(`the model gives ${entity} no key column`);
  return key.name;
}

const isIdentifier = (c: ColumnSpec) => c.key === true || c.refersTo !== undefined;
const isNumber = (c: ColumnSpec) => !isIdentifier(c) && (c.type === 'decimal' || c.type === 'integer');

/** The expressions of one dialect over one entity's raw and typed columns. */
function expressions(d: Dialect, model: RulesModel) {
  const raw = (c: string) => d.ident(c);
  const typed = (c: string) => d.ident(`t_${c}`);
  const present = (c: string) => `(${raw(c)} IS NOT NULL AND NOT ${d.fullMatch(raw(c), BLANK)})`;
  const matches = (c: string, pattern: string) => `(${raw(c)} IS NOT NULL AND ${d.fullMatch(raw(c), pattern)})`;
  const cleanedText = (c: string) => `nullif(${d.strip(raw(c))}, '')`;

  function typedValue(c: ColumnSpec): string {
    const input = d.castInput(raw(c.name));
    switch (c.type) {
      case 'integer':
        return d.tryCast(input, c.bits === 32 ? 'INTEGER' : 'BIGINT');
      case 'date':
        return d.tryCast(input, 'DATE');
      case 'decimal':
        return d.money(input, MONEY.precision, MONEY.scale);
      case 'text': {
        let v = cleanedText(c.name);
        if (c.clean?.case) v = `${c.clean.case}(${v})`;
        if (c.clean?.blankAs !== undefined) v = `coalesce(${v}, ${d.str(c.clean.blankAs)})`;
        return v;
      }
    }
  }

  const pattern = (c: ColumnSpec) => (c.type === 'decimal' ? DECIMAL : c.type === 'date' ? DATE : INT);
  /** Well-formed for its type (a date must also be a real day; an integer must fit its width). */
  const wellFormed = (c: ColumnSpec) =>
    c.type === 'decimal' ? matches(c.name, DECIMAL) : `(${matches(c.name, pattern(c))} AND ${typed(c.name)} IS NOT NULL)`;

  /** NOT wellFormed(c), with the key's shortcut of Dialect.integerText where the engine has one. */
  function malformed(c: ColumnSpec): string {
    if (!(c.key && c.type === 'integer' && d.integerText)) return `NOT ${wellFormed(c)}`;
    const t = typed(c.name);
    return `CASE WHEN ${t} IS NULL THEN true WHEN ${d.integerText(t)} = ${raw(c.name)} THEN false ELSE NOT ${d.fullMatch(raw(c.name), pattern(c))} END`;
  }

  function rangeHolds(r: RangeRule): string {
    const than = typeof r.than === 'number' ? String(r.than) : typed(r.than.column);
    // A comparison with a blank optional value is unknown, and holds.
    return `coalesce(${typed(r.column)} ${r.op} ${than}, true)`;
  }

  /** Checks 0-4 in the contract's order: the first that fails names the row's reason. */
  function rowReason(entity: Entity): string {
    const cols = model.columns[entity];
    const arms: [string, string[]][] = [
      ['malformed_row', ['malformed_line IS NOT NULL']],
      ['missing_key', cols.filter(isIdentifier).map(malformed)],
      [
        'bad_date',
        cols
          .filter((c) => c.type === 'date')
          .map((c) => (c.mustBePresent ? `NOT ${wellFormed(c)}` : `(${present(c.name)} AND NOT ${wellFormed(c)})`)),
      ],
      [
        'bad_number',
        cols
          .filter(isNumber)
          .map((c) =>
            c.mustBePresent ? `NOT ${matches(c.name, pattern(c))}` : `(${present(c.name)} AND NOT ${matches(c.name, pattern(c))})`,
          ),
      ],
      [
        'out_of_range',
        [
          // Well-formed but too large for its type.
          ...cols.filter(isNumber).map((c) => `(${present(c.name)} AND ${typed(c.name)} IS NULL)`),
          ...model.rangeRules[entity].map((r) => `NOT ${rangeHolds(r)}`),
        ],
      ],
    ];
    const whens = arms.filter(([, conds]) => conds.length > 0).map(([reason, conds]) => `WHEN ${conds.join(' OR ')} THEN ${d.str(reason)}`);
    return `CASE ${whens.join(' ')} END`;
  }

  /**
   * Every required value present, over a row whose `row_reason` is known. An accepted row passed the
   * format check of each identifier and of each value that must be present, and no format matches a
   * blank: only its other required values need the blank test, which is most of the cost of this
   * expression on the rows that are nearly all accepted.
   */
  const complete = (entity: Entity) => {
    const required = model.columns[entity].filter((c) => c.required);
    const shownByAcceptance = (c: ColumnSpec) => isIdentifier(c) || (c.mustBePresent === true && (c.type === 'date' || isNumber(c)));
    const all = (cols: ColumnSpec[]) => cols.map((c) => present(c.name)).join(' AND ') || 'true';
    return `CASE WHEN row_reason IS NULL THEN ${all(required.filter((c) => !shownByAcceptance(c)))} ELSE ${all(required)} END`;
  };
  const typedColumns = (entity: Entity) => model.columns[entity].map((c) => `${typedValue(c)} AS ${typed(c.name)}`).join(', ');

  return { raw, typed, typedValue, rowReason, complete, typedColumns };
}

/**
 * Per entity: exact copies collapse onto their last copy, checks 0-4 give a reason, and among the
 * rows still without one a key held more than once keeps only its last row (duplicate_key).
 * `input` is the raw relation; `prefix` names the statements (`<prefix>_kept`, `_checked`, `_keyed`).
 */
export function keyedRows(d: Dialect, entity: Entity, input: string, prefix: string, model: RulesModel = MODEL): Statement[] {
  const e = expressions(d, model);
  const rawCols = rawColList(model, entity, d).join(', ');
  const key = e.typed(keyOf(model, entity));
  const copies = `max(ord) OVER (PARTITION BY ${rawCols}) AS last_copy, count(*) OVER (PARTITION BY ${rawCols}) AS copies`;
  const checkedOver = (rows: string) => `SELECT *, ${e.complete(entity)} AS complete
        FROM (SELECT *, ${e.rowReason(entity)} AS row_reason FROM (SELECT *, ${e.typedColumns(entity)} FROM ${rows}) typed) reasoned`;
  const plain = (rows: string, name: string): Statement[] => [
    { name: `${name}_kept`, select: `SELECT * FROM (SELECT *, ${copies} FROM ${rows}) copied WHERE ord = last_copy` },
    { name: `${name}_checked`, select: checkedOver(`${name}_kept`) },
    {
      name: `${name}_keyed`,
      select: `SELECT *, CASE WHEN row_reason IS NOT NULL THEN row_reason
          WHEN ord <> max(CASE WHEN row_reason IS NULL THEN ord END) OVER (PARTITION BY ${key}) THEN 'duplicate_key' END AS keyed_reason
        FROM ${name}_checked`,
    },
  ];
  // Engines that inline every reference to a relation (Trino, Spark) get the plainest plan: one window each.
  if (!d.groupsFirst) return plain(input, prefix);
  // Exact copies share their key, and a key held twice is held twice in the raw rows. So the rows whose
  // key is missing or repeated (few: found by one sort of the key alone) are the only ones that can
  // have a copy or lose a key contest; they take the window form, and every other row is its own last
  // copy and its key's only holder, judged by checks 0-4 alone as the batch streams through once. A
  // repeated key is one equal to the next in key order: over keys nearly all distinct, DuckDB sorts
  // 10M of them in 0.5 s where a grouping's hash table of 10M entries takes 0.85 s (the statement
  // timed alone on bench/local.ts's 10M-order day).
  const keyValue = e.typedValue(model.columns[entity].find((c) => c.name === keyOf(model, entity))!);
  const suspects = `${prefix}_suspects`;
  const contested = plain(suspects, suspects);
  return [
    {
      name: `${prefix}_repeated`,
      select: `SELECT DISTINCT k FROM (SELECT k, lead(k) OVER (ORDER BY k) AS next_k
          FROM (SELECT ${keyValue} AS k FROM ${input}) keys WHERE k IS NOT NULL) sorted WHERE k = next_k`,
      materialise: true,
    },
    {
      name: suspects,
      select: `SELECT * FROM ${input} WHERE ${keyValue} IS NULL OR ${keyValue} IN (SELECT k FROM ${prefix}_repeated)`,
      materialise: true,
    },
    ...contested,
    {
      name: `${prefix}_keyed`,
      select: `SELECT *, row_reason AS keyed_reason FROM (${checkedOver(
        `(SELECT *, ord AS last_copy, CAST(1 AS BIGINT) AS copies FROM ${input} WHERE ${keyValue} IS NOT NULL AND ${keyValue} NOT IN (SELECT k FROM ${prefix}_repeated)) alone`,
      )}) judged
        UNION ALL
        SELECT * FROM ${suspects}_keyed`,
    },
  ];
}

/** The verdict statements of every entity, dimensions first (an order's references read them). */
export function verdictStatements(d: Dialect, model: RulesModel = MODEL): Statement[] {
  const out: Statement[] = [];
  for (const entity of ENTITIES) {
    out.push(...keyedRows(d, entity, `raw_${entity}`, entity, model));
    const refs = model.columns[entity].filter((c) => c.refersTo);
    if (refs.length === 0) {
      out.push({ name: `${entity}_verdicts`, select: `SELECT *, keyed_reason AS reason FROM ${entity}_keyed` });
      continue;
    }
    // unknown_*: a reference to no key accepted in this batch or an earlier one, in column order.
    const joins = refs.map((c, i) => {
      const target = c.refersTo as Entity;
      return `LEFT JOIN (SELECT DISTINCT k FROM (
          SELECT ${d.ident(`t_${keyOf(model, target)}`)} AS k FROM ${target}_verdicts WHERE reason IS NULL
          UNION ALL SELECT k FROM known_${target}) keys_${i} WHERE k IS NOT NULL) ref_${i} ON r.${d.ident(`t_${c.name}`)} = ref_${i}.k`;
    });
    const arms = refs.map(
      (c, i) => `WHEN ref_${i}.k IS NULL THEN ${d.str(UNKNOWN_REFERENCE_REASON[c.refersTo as 'customers' | 'products'])}`,
    );
    out.push({
      name: `${entity}_verdicts`,
      select: `SELECT r.*, CASE WHEN r.keyed_reason IS NOT NULL THEN r.keyed_reason ${arms.join(' ')} END AS reason
        FROM ${entity}_keyed r ${joins.join(' ')}`,
    });
  }
  return out;
}

function rowSet(d: Dialect, set: RowSet): string {
  if (set === 'all') return 'true';
  if (set === 'complete') return 'complete';
  const list = ('reasonIn' in set ? set.reasonIn : set.reasonNotIn).map((r) => d.str(r)).join(', ');
  return 'reasonIn' in set ? `(reason IN (${list}))` : `(reason IS NULL OR reason NOT IN (${list}))`;
}

function formulaValue(d: Dialect, f: GateFormula): string {
  const count = (set: RowSet) => (set === 'all' ? 'count(*)' : `count(CASE WHEN ${rowSet(d, set)} THEN 1 END)`);
  if (f.value === 'count') return `CAST(${count(f.of)} AS DOUBLE)`;
  const share = d.ratio(count(f.of), count(f.among));
  const value = f.value === 'share' ? share : `(1 - ${share})`;
  // Nothing to measure gives 1.0: an empty batch fails row_count, not every ratio at once.
  return `CASE WHEN ${count(f.among)} = 0 THEN CAST(1 AS DOUBLE) ELSE ${value} END`;
}

/**
 * The quality report over the verdicts: position (report order), entity, check, value. Each entity's
 * verdicts are read once: its formulas are computed side by side in one aggregate row, which a small
 * table of its checks turns into one row per check.
 */
export function gateStatement(d: Dialect, model: RulesModel = MODEL): Statement {
  const selects: string[] = [];
  const check = d.ident('check');
  let position = 0;
  for (const entity of ENTITIES) {
    const formulas = model.gate.filter((f) => !('entities' in f && f.entities && !f.entities.includes(entity)));
    if (formulas.length === 0) continue;
    const first = position;
    position += formulas.length;
    const values = formulas.map((f, i) => `${formulaValue(d, f)} AS v${i}`).join(', ');
    const checks = formulas.map((f, i) => `(${first + i}, ${d.str(entity)}, ${d.str(f.check)})`).join(', ');
    selects.push(
      `SELECT g.position, g.entity, g.${check}, CASE g.position ${formulas.map((_, i) => `WHEN ${first + i} THEN a.v${i}`).join(' ')} END AS value
        FROM (SELECT ${values} FROM ${entity}_verdicts) a CROSS JOIN (VALUES ${checks}) AS g(position, entity, ${check})`,
    );
  }
  return { name: 'quality_report', select: selects.join('\nUNION ALL\n') };
}

/** Every statement, in the order they must run. */
export function ruleStatements(d: Dialect, model: RulesModel = MODEL): Statement[] {
  return [...verdictStatements(d, model), gateStatement(d, model)];
}

/** One query holding every statement as a WITH clause and ending in `final` (Trino, or a test). */
export function asOneQuery(statements: readonly Statement[], final: string): string {
  return `WITH\n${statements.map((s) => `${s.name} AS (\n${s.select}\n)`).join(',\n')}\n${final}`;
}
