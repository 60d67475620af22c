/**
 * The marts of src/rules/marts.ts on DuckDB: the batch's gold marts (the transform writes them) and
 * the warehouse refresh (the load runs it in its transaction).
 */
import { MART_DIALECTS } from '../../rules/dialect';
import type { FactsProfile } from '../../rules/marts';
import { goldMartStatements, warehouseRefreshStatements } from '../../rules/marts';

const duckdb = MART_DIALECTS.duckdb;

/**
 * Each gold mart of the batch over `facts` (its accepted orders), with the batch's date as
 * `batch_date`; `profile`, when given, lets distinct customers be counted by bitmap.
 */
export function martSelects(facts: string, batchDateLiteral: string, profile?: FactsProfile): { table: string; select: string }[] {
  return goldMartStatements(duckdb, facts, profile).map((s) => ({
    table: s.name,
    select: `SELECT m.*, ${batchDateLiteral} AS batch_date FROM (${s.select}) m`,
  }));
}

/**
 * The local warehouse's refresh of every mart, after the batch's facts and audit row are merged;
 * `affected_dates` is the load's temp table of the order dates the batch changes; `batchMarts` as in
 * src/rules/marts.ts.
 */
export function warehouseRefresh(batchMarts?: Record<string, string>): string[] {
  return warehouseRefreshStatements(duckdb, { schema: 'analytics', affectedDates: 'SELECT order_date FROM affected_dates', batchMarts });
}
