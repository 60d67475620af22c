/**
 * The validate stage on AWS: the contract's rules rendered for Trino (Athena engine v3) as one query
 * over the crawled raw tables, filtered to the run's partition. Raw values are read as text and
 * judged by the same statements the local backend runs on DuckDB (src/rules), so what the crawler
 * guessed a column's type to be does not matter and both backends report the same values.
 *
 * Where Athena cannot see what the local backend sees, the difference is stated here:
 * - a line the CSV SerDe splits into the wrong number of fields is read as a row (the Glue job
 *   rejects it as malformed_row), so `malformed_line` is NULL here;
 * - earlier batches' accepted keys come from the earlier raw partitions (rows passing checks 0-4),
 *   which equals the local rule (earlier gold dimensions) when every earlier date was transformed.
 * Result columns: entity, check, value, threshold, passed (what src/shared/results.ts reads).
 */
import type { Entity } from '../../shared/contract';
import { COLUMNS, ENTITIES, KEY_COLUMN, isIsoDate } from '../../shared/contract';
import type { QualityThresholds } from '../../shared/quality';
import { GATE_FORMULAS, thresholdFor } from '../../shared/quality';
import { trino } from '../../rules/dialect';
import type { Statement } from '../../rules/verdicts';
import { asOneQuery, gateStatement, keyedRows, verdictStatements } from '../../rules/verdicts';
import { badConfig } from '../errors';

/** Column the crawler gives the date folder of raw/{entity}/{date}/ (not a key=value folder). */
export const PARTITION_COLUMN = 'partition_0';

const IDENTIFIER = /^[A-Za-z0-9_-]{1,255}$/;

/** Tables of the workbooks' sheets converted to CSV by the catalog stage (the crawler reads no .xlsx). */
export const SHEETS_TABLE_PREFIX = 'sheets_';

/**
 * An entity's rows of some partitions in the shape the rules read (see src/rules/verdicts.ts): the
 * crawled CSV table and the converted sheets together. Athena gives no line numbers, so `ord` only
 * tells rows apart; the gate's values do not depend on which copy of a key is the last.
 */
function rawRows(database: string, entity: Entity, partitions: string): string {
  const cols = COLUMNS[entity].map((c) => `CAST(${trino.ident(c.name)} AS varchar) AS ${trino.ident(c.name)}`).join(', ');
  const from = (table: string) => `SELECT ${cols} FROM "${database}"."${table}" WHERE ${PARTITION_COLUMN} ${partitions}`;
  return `SELECT *, CAST(NULL AS varchar) AS malformed_line, row_number() OVER () AS ord FROM (
    ${from(entity)}
    UNION ALL
    ${from(`${SHEETS_TABLE_PREFIX}${entity}`)}) rows`;
}

/** The statements of the Athena gate for one run date over `"<database>"."<entity>"` and its sheets table. */
export function qualityStatements(database: string, runDate: string): Statement[] {
  const date = trino.str(runDate);
  const out: Statement[] = ENTITIES.map((e) => ({ name: `raw_${e}`, select: rawRows(database, e, `= ${date}`) }));
  for (const dim of ['customers', 'products'] as const) {
    out.push({ name: `earlier_raw_${dim}`, select: rawRows(database, dim, `< ${date}`) });
    out.push(...keyedRows(trino, dim, `earlier_raw_${dim}`, `earlier_${dim}`));
    out.push({
      name: `known_${dim}`,
      select: `SELECT ${trino.ident(`t_${KEY_COLUMN[dim]}`)} AS k FROM earlier_${dim}_checked WHERE row_reason IS NULL`,
    });
  }
  out.push(...verdictStatements(trino), gateStatement(trino));
  return out;
}

export function qualityChecksSql(database: string, runDate: string, t: QualityThresholds): string {
  if (!IDENTIFIER.test(database)) throw badConfig(`Glue database name ${JSON.stringify(database)} is not a plain identifier`);
  if (!isIsoDate(runDate)) throw badConfig(`run date ${JSON.stringify(runDate)} is not an ISO date (YYYY-MM-DD)`);
  const thresholds = GATE_FORMULAS.map((f) => {
    const threshold = thresholdFor(f.check, t);
    if (!Number.isFinite(threshold)) throw badConfig(`quality threshold for ${f.check} is not a number: ${threshold}`);
    return `(${trino.str(f.check)}, CAST(${threshold} AS double))`;
  });
  return asOneQuery(
    [
      ...qualityStatements(database, runDate),
      { name: 'thresholds', select: `SELECT * FROM (VALUES ${thresholds.join(', ')}) AS t(name, threshold)` },
    ],
    `SELECT q.entity, q."check", q.value, t.threshold, q.value >= t.threshold AS passed
FROM quality_report q JOIN thresholds t ON t.name = q."check"
ORDER BY q.position`,
  );
}
