/**
 * The data contract's cleaning and reject rules as DuckDB SQL expressions, shared by the quality
 * gate (which measures them on bronze) and the transform (which applies them).
 *
 * They read the raw text columns (named as in the contract) and, where a typed value is needed, the
 * typed column `t_<column>` built by `typedColumns`. Patterns allow surrounding whitespace instead
 * of trimming every value first (DuckDB's casts ignore it too), which keeps a million-row batch
 * cheap; they are the Glue job's patterns otherwise, so both backends judge a value alike.
 */
import type { Entity } from '../../shared/contract';
import { COLUMNS, KEY_COLUMN } from '../../shared/contract';
import { ident } from './warehouse';

/** Whitespace as Spark's `\s` counts it: space, tab, LF, VT, FF, CR. */
const WS = '[ \\t\\n\\x0B\\f\\r]';
const INT = `'${WS}*[+-]?[0-9]+${WS}*'`;
const DECIMAL = `'${WS}*[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)${WS}*'`;
const DATE = `'${WS}*[0-9]{4}-[0-9]{2}-[0-9]{2}${WS}*'`;
const BLANK = `'${WS}*'`;

export const columnNames = (entity: Entity): string[] => COLUMNS[entity].map((c) => c.name);
export const requiredColumns = (entity: Entity): string[] => COLUMNS[entity].filter((c) => c.required).map((c) => c.name);

const raw = (column: string) => ident(column);
const typed = (column: string) => ident(`t_${column}`);

/** Trimmed text, blank as NULL. */
export function cleanedText(column: string): string {
  return `nullif(regexp_replace(${raw(column)}, '^${WS}+|${WS}+$', '', 'g'), '')`;
}

/** The raw value holds something other than whitespace. */
export function present(column: string): string {
  return `(${raw(column)} IS NOT NULL AND NOT regexp_full_match(${raw(column)}, ${BLANK}))`;
}

/** Money: rounded half away from zero to cents by the cast itself; NULL when it does not fit DECIMAL(10,2). */
const money = (x: string) => `TRY_CAST(TRY_CAST(${x} AS DECIMAL(18,2)) AS DECIMAL(10,2))`;

/** Cleaned, typed values as `t_<column>`, meaningful for rows without a reason. */
export function typedColumns(entity: Entity): string {
  return COLUMNS[entity]
    .map((c) => {
      const x = raw(c.name);
      let expr: string;
      if (c.type === 'integer') expr = c.name === 'quantity' ? `TRY_CAST(${x} AS INTEGER)` : `TRY_CAST(${x} AS BIGINT)`;
      else if (c.type === 'date') expr = `TRY_CAST(${x} AS DATE)`;
      else if (c.type === 'decimal') expr = money(x);
      else if (c.name === 'email') expr = `lower(${cleanedText(c.name)})`;
      else if (c.name === 'state') expr = `coalesce(upper(${cleanedText(c.name)}), 'Unknown')`;
      else if (c.name === 'city') expr = `coalesce(${cleanedText(c.name)}, 'Unknown')`;
      else expr = cleanedText(c.name);
      return `${expr} AS ${typed(c.name)}`;
    })
    .join(', ');
}

/** The typed columns under their contract names. */
export function typedAsContract(entity: Entity): string {
  return columnNames(entity)
    .map((c) => `${typed(c)} AS ${ident(c)}`)
    .join(', ');
}

const isInt = (c: string) => `(regexp_full_match(${raw(c)}, ${INT}) AND ${typed(c)} IS NOT NULL)`;
const isDate = (c: string) => `(regexp_full_match(${raw(c)}, ${DATE}) AND ${typed(c)} IS NOT NULL)`;
const isDecimal = (c: string) => `regexp_full_match(${raw(c)}, ${DECIMAL})`;
/** Empty, or not an integer (a value that overflows BIGINT is not one either). */
const missing = (c: string) => `(${raw(c)} IS NULL OR NOT ${isInt(c)})`;

/** A line the CSV reader could not split into the header's fields (kept whole in bronze). */
const MALFORMED = `WHEN malformed_line IS NOT NULL THEN 'malformed_row'`;

/** The first failing check among 0-4 (malformed_row, missing_key, bad_date, bad_number, out_of_range), or NULL. */
export function reasonExpr(entity: Entity): string {
  switch (entity) {
    case 'customers':
      return `CASE ${MALFORMED}
        WHEN ${missing('customer_id')} THEN 'missing_key'
        WHEN ${present('join_date')} AND NOT ${isDate('join_date')} THEN 'bad_date'
      END`;
    case 'products':
      return `CASE ${MALFORMED}
        WHEN ${missing('product_id')} THEN 'missing_key'
        WHEN ${raw('price')} IS NULL OR NOT ${isDecimal('price')} THEN 'bad_number'
        WHEN ${typed('price')} IS NULL OR ${typed('price')} < 0 THEN 'out_of_range'
      END`;
    case 'orders':
      return `CASE ${MALFORMED}
        WHEN ${missing('order_id')} OR ${missing('customer_id')} OR ${missing('product_id')} THEN 'missing_key'
        WHEN ${raw('order_date')} IS NULL OR NOT ${isDate('order_date')}
          OR (${present('delivery_date')} AND NOT ${isDate('delivery_date')}) THEN 'bad_date'
        WHEN ${raw('order_amount')} IS NULL OR NOT ${isDecimal('order_amount')}
          OR ${raw('quantity')} IS NULL OR NOT regexp_full_match(${raw('quantity')}, ${INT}) THEN 'bad_number'
        WHEN ${typed('order_amount')} IS NULL OR ${typed('order_amount')} <= 0
          OR ${typed('quantity')} IS NULL OR ${typed('quantity')} <= 0
          OR coalesce(${typed('delivery_date')} < ${typed('order_date')}, false) THEN 'out_of_range'
      END`;
  }
}

/** The key, typed (NULL when it is not an integer). */
export function keyColumn(entity: Entity): string {
  return typed(KEY_COLUMN[entity]);
}

/** A hash of the raw contract values (or the malformed line): equal rows hash alike, so exact copies can be found cheaply. */
export function rawHash(entity: Entity): string {
  return `hash(${[...columnNames(entity), 'malformed_line'].map(raw).join(', ')})`;
}
