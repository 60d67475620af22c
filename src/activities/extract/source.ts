/**
 * What one entity's extract runs on the source database: a table (whole, or the run date's rows of
 * a date column) or the configured query. The run date is always the bound parameter $1, never
 * spliced into the SQL text; names are quoted, so a table name cannot carry SQL either.
 */
import type { ExtractSource } from '../../config';

export interface SourceStatement {
  text: string;
  values: string[];
}

const quoteName = (name: string) =>
  name
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');

export function sourceStatement(source: ExtractSource, runDate: string): SourceStatement {
  if ('query' in source) {
    // A query that never mentions $1 takes no parameter: PostgreSQL refuses a value it has no place for.
    return { text: source.query, values: /\$1(?!\d)/.test(source.query) ? [runDate] : [] };
  }
  const from = `SELECT * FROM ${quoteName(source.table)}`;
  if (!source.dateColumn) return { text: from, values: [] };
  // A half-open day range holds for a date column and for a timestamp one alike.
  const column = `"${source.dateColumn}"`;
  return { text: `${from} WHERE ${column} >= $1::date AND ${column} < $1::date + 1`, values: [runDate] };
}

/** Where the rows came from, for results and messages: `table public.orders (order_date on the run date)`, `query`. */
export function sourceLabel(source: ExtractSource): string {
  if ('query' in source) return 'query';
  return source.dateColumn ? `table ${source.table}, ${source.dateColumn} on the run date` : `table ${source.table}`;
}
