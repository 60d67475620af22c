/**
 * The few places where DuckDB, Spark SQL and Trino (Athena engine v3) spell the same thing
 * differently. The rules themselves are rendered once, in verdicts.ts, over this interface; the
 * parity suite runs each rendering on its real engine.
 */

export type DialectName = 'duckdb' | 'spark' | 'trino';

export type CastType = 'BIGINT' | 'INTEGER' | 'DATE';

export interface Dialect {
  name: DialectName;
  /** A string literal holding exactly `value`. */
  str(value: string): string;
  ident(name: string): string;
  /** True when the whole of `x` matches `pattern` (a regex in the syntax RE2, Java and Joni share). */
  fullMatch(x: string, pattern: string): string;
  /** `x` without whitespace (WS below) at either end. */
  strip(x: string): string;
  /** What a cast reads: DuckDB's casts skip surrounding whitespace themselves, the others need it stripped. */
  castInput(x: string): string;
  tryCast(x: string, type: CastType): string;
  /** A decimal text rounded half away from zero to DECIMAL(p, s), NULL when it does not fit. */
  money(x: string, precision: number, scale: number): string;
  /**
   * Given, the rules take the grouped form (src/rules/verdicts.ts): the few rows whose key is missing or
   * repeated are found by a sort of the key alone and only they are sorted by window partitions, the
   * batch itself streamed once, which suits an engine that plans each statement on its own (DuckDB).
   * Trino and Spark have none here: both inline every reference to a relation into one plan (Athena's
   * one query would pass its limit of stages; Spark's plans, read four times over, filled the job's
   * driver heap), and their windows are distributed sorts that need no help.
   */
  groupsFirst?: true;
  /** A double-precision division that the engine does not turn into an integer or a decimal one. */
  ratio(num: string, den: string): string;
  /**
   * Given, an integer's shortest text (`-12`, `0`). A key is nearly unique, so its text is seldom
   * repeated and DuckDB runs the format regex once per row, not once per distinct value as for a
   * reference column; a key whose text is already its number's shortest text is well-formed without
   * the regex, which then runs only on the few others. DuckDB's CASE evaluates an arm only for the
   * rows that reach it, so the shortcut costs little where it does not apply.
   */
  integerText?(x: string): string;
}

/** Whitespace as Spark's `\s` and Python's csv module count it at a value's ends: space, tab, LF, VT, FF, CR. */
export const WS = '[ \\t\\n\\x0B\\f\\r]';

const quoteSql = (value: string) => `'${value.replace(/'/g, "''")}'`;
const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

export const duckdb: Dialect = {
  name: 'duckdb',
  str: quoteSql,
  ident: quoteIdent,
  fullMatch: (x, p) => `regexp_full_match(${x}, ${quoteSql(p)})`,
  strip: (x) => `regexp_replace(${x}, ${quoteSql(`^${WS}+|${WS}+$`)}, '', 'g')`,
  castInput: (x) => x,
  tryCast: (x, t) => `TRY_CAST(${x} AS ${t})`,
  // The cast to (18, s) rounds half away from zero; the second one refuses what does not fit.
  money: (x, p, s) => `TRY_CAST(TRY_CAST(${x} AS DECIMAL(18,${s})) AS DECIMAL(${p},${s}))`,
  ratio: (num, den) => `(CAST(${num} AS DOUBLE) / ${den})`,
  groupsFirst: true,
  integerText: (x) => `CAST(${x} AS VARCHAR)`,
};

/** Spark SQL string literals take backslash escapes, so a regex's backslashes are doubled. */
const sparkStr = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export const spark: Dialect = {
  name: 'spark',
  str: sparkStr,
  ident: (name) => `\`${name.replace(/`/g, '``')}\``,
  // RLIKE finds a match anywhere; \A and \z pin it to the whole value (Java's $ would allow a final newline).
  fullMatch: (x, p) => `(${x} RLIKE ${sparkStr(`\\A(?:${p})\\z`)})`,
  strip: (x) => `regexp_replace(${x}, ${sparkStr(`\\A${WS}+|${WS}+\\z`)}, '')`,
  castInput: (x) => spark.strip(x),
  tryCast: (x, t) => `try_cast(${x} AS ${t})`,
  // Spark rounds decimals half away from zero; 18 fraction digits survive until the rounding.
  money: (x, p, s) => `try_cast(round(try_cast(${x} AS DECIMAL(38,18)), ${s}) AS DECIMAL(${p},${s}))`,
  ratio: (num, den) => `(CAST(${num} AS DOUBLE) / ${den})`,
};

export const trino: Dialect = {
  name: 'trino',
  str: quoteSql,
  ident: quoteIdent,
  // Joni's ^ and $ match at line breaks; \A and \z only at the ends of the value.
  fullMatch: (x, p) => `regexp_like(${x}, ${quoteSql(`\\A(?:${p})\\z`)})`,
  strip: (x) => `regexp_replace(${x}, ${quoteSql(`\\A${WS}+|${WS}+\\z`)}, '')`,
  castInput: (x) => trino.strip(x),
  tryCast: (x, t) => `TRY_CAST(${x} AS ${t})`,
  money: (x, p, s) => `TRY_CAST(TRY_CAST(${x} AS DECIMAL(38,18)) AS DECIMAL(${p},${s}))`,
  ratio: (num, den) => `(CAST(${num} AS DOUBLE) / ${den})`,
};

export const DIALECTS: Record<DialectName, Dialect> = { duckdb, spark, trino };

/**
 * The engines the marts (src/rules/marts.ts) are rendered for: DuckDB (the local transform's gold and
 * the local warehouse), Spark SQL (the Glue job's gold) and Redshift (load.sql; PostgreSQL in the tests).
 * The marts need few spellings beyond standard SQL; these are they.
 */
export type MartDialectName = 'duckdb' | 'spark' | 'redshift';

export interface MartDialect {
  name: MartDialectName;
  /** Integer division of two non-negative integers, rounded down. */
  intDiv(num: string, den: string): string;
  /** Whole days from the date `from` to the date `to` (negative when `to` is earlier). */
  daysBetween(from: string, to: string): string;
  /** The wall-clock time a warehouse row's `last_updated` takes. */
  now: string;
  /**
   * count(DISTINCT of) where every value of `of` lies in [lo, hi], by a bitmap over that range, for
   * engines that have one (see FactsProfile in src/rules/marts.ts); without it, count(DISTINCT).
   */
  countDistinctIn?(of: string, lo: bigint, hi: bigint): string;
}

export const MART_DIALECTS: Record<MartDialectName, MartDialect> = {
  duckdb: {
    name: 'duckdb',
    // DuckDB's `/` divides integers into a double; `//` keeps them integers.
    intDiv: (num, den) => `((${num}) // (${den}))`,
    daysBetween: (from, to) => `date_diff('day', ${from}, ${to})`,
    now: 'now()::TIMESTAMP',
    // A group with no value of `of` has no bitmap: its count is 0, as count(DISTINCT) gives.
    countDistinctIn: (of, lo, hi) => `coalesce(bit_count(bitstring_agg(${of}, ${lo}, ${hi})), 0)`,
  },
  spark: {
    name: 'spark',
    intDiv: (num, den) => `((${num}) div (${den}))`,
    daysBetween: (from, to) => `datediff(${to}, ${from})`,
    now: 'current_timestamp()',
  },
  redshift: {
    name: 'redshift',
    intDiv: (num, den) => `((${num}) / (${den}))`,
    daysBetween: (from, to) => `DATEDIFF(day, ${from}, ${to})`,
    now: 'GETDATE()',
  },
};
