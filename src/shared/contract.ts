/**
 * The data contract of ../shared/design/pipeline.md, as values both the workflow and the backends use.
 * Pure data only: this module is bundled into workflow code.
 */

export const ENTITIES = ['customers', 'products', 'orders'] as const;
export type Entity = (typeof ENTITIES)[number];

/** `extract` is optional (off unless a run's options turn it on): a run without it skips it, recording nothing. */
export const STAGES = ['extract', 'awaitRawData', 'catalog', 'validate', 'transform', 'load', 'verify', 'notify'] as const;
export type StageName = (typeof STAGES)[number];

export function isStageName(value: string): value is StageName {
  return (STAGES as readonly string[]).includes(value);
}

export function isEntity(value: string): value is Entity {
  return (ENTITIES as readonly string[]).includes(value);
}

export type ColumnType = 'integer' | 'text' | 'date' | 'decimal';

/**
 * One column of an entity, and every rule that judges or cleans it. The engines' SQL (DuckDB, Spark,
 * Trino) is rendered from these fields by src/rules; nothing else in src/, glue/ or sql/ restates them.
 */
export interface ColumnSpec {
  name: string;
  type: ColumnType;
  /** The header must name it, and the gate's completeness counts a blank value as incomplete. */
  required: boolean;
  /** The entity's key: `missing_key` when blank or not an integer; `duplicate_key` among its rows. */
  key?: boolean;
  /** A reference to another entity's key: `missing_key` when blank or not an integer, then `unknown_*`. */
  refersTo?: Entity;
  /** A blank value rejects the row (`bad_date` for a date, `bad_number` for a number). */
  mustBePresent?: boolean;
  /** Integers: 32 for a count that must fit an INTEGER; 64 (BIGINT) otherwise. */
  bits?: 32 | 64;
  /** Text cleaning after trimming (blank is NULL): a case, and what a blank becomes instead of NULL. */
  clean?: { case?: 'lower' | 'upper'; blankAs?: string };
}

/** Money: decimal(10,2), rounded half away from zero; a value that does not fit is `out_of_range`. */
export const MONEY = { precision: 10, scale: 2 } as const;

export const COLUMNS: Record<Entity, readonly ColumnSpec[]> = {
  customers: [
    { name: 'customer_id', type: 'integer', required: true, key: true },
    { name: 'first_name', type: 'text', required: true },
    { name: 'last_name', type: 'text', required: true },
    { name: 'email', type: 'text', required: true, clean: { case: 'lower' } },
    { name: 'join_date', type: 'date', required: true },
    { name: 'city', type: 'text', required: true, clean: { blankAs: 'Unknown' } },
    { name: 'state', type: 'text', required: true, clean: { case: 'upper', blankAs: 'Unknown' } },
  ],
  products: [
    { name: 'product_id', type: 'integer', required: true, key: true },
    { name: 'product_name', type: 'text', required: true },
    { name: 'category', type: 'text', required: true },
    { name: 'price', type: 'decimal', required: true, mustBePresent: true },
  ],
  orders: [
    { name: 'order_id', type: 'integer', required: true, key: true },
    { name: 'customer_id', type: 'integer', required: true, refersTo: 'customers' },
    { name: 'product_id', type: 'integer', required: true, refersTo: 'products' },
    { name: 'order_date', type: 'date', required: true, mustBePresent: true },
    { name: 'order_amount', type: 'decimal', required: true, mustBePresent: true },
    { name: 'quantity', type: 'integer', required: true, mustBePresent: true, bits: 32 },
    { name: 'delivery_date', type: 'date', required: false },
  ],
};

/**
 * Range rules (`out_of_range`): a column compared with a number or with another column. A rule over
 * a blank optional value holds (a missing delivery_date is not late).
 */
export interface RangeRule {
  column: string;
  op: '>' | '>=' | '<' | '<=';
  /** A number, or another column of the same entity. */
  than: number | { column: string };
}

export const RANGE_RULES: Record<Entity, readonly RangeRule[]> = {
  customers: [],
  products: [{ column: 'price', op: '>=', than: 0 }],
  orders: [
    { column: 'order_amount', op: '>', than: 0 },
    { column: 'quantity', op: '>', than: 0 },
    { column: 'delivery_date', op: '>=', than: { column: 'order_date' } },
  ],
};

function keyOf(entity: Entity): string {
  const key = COLUMNS[entity].find((c) => c.key);
  if (!key) throw new Error(`the contract gives ${entity} no key column`);
  return key.name;
}

export const KEY_COLUMN: Record<Entity, string> = { customers: keyOf('customers'), products: keyOf('products'), orders: keyOf('orders') };

/** The reason an order earns when the entity its column refers to has no accepted row with that key. */
export const UNKNOWN_REFERENCE_REASON = { customers: 'unknown_customer', products: 'unknown_product' } as const;

/** Reject reasons, in the order the checks run: the first failing check gives the reason. */
export const REJECT_REASONS = [
  'malformed_row',
  'missing_key',
  'bad_date',
  'bad_number',
  'out_of_range',
  'duplicate_key',
  'unknown_customer',
  'unknown_product',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Reasons 0-4: what a row earns on its own values, before it is compared with other rows. */
export const ROW_REASONS = REJECT_REASONS.slice(0, REJECT_REASONS.indexOf('duplicate_key'));

/** The reasons a record that splits into its fields can earn: all but `malformed_row`, which is about the line. */
export const FIELD_REJECT_REASONS = REJECT_REASONS.filter((r): r is Exclude<RejectReason, 'malformed_row'> => r !== 'malformed_row');

/** Raw file kinds a partition may hold (the name's ending, in any case). */
export const RAW_FILE_SUFFIXES = ['.csv', '.csv.gz', '.xlsx'] as const;

/**
 * Why a file of this name in a partition is not read, or undefined for a raw file the backends read.
 * Hidden names (a leading dot, or an underscore as Spark and Glue treat them) are in-progress or
 * tool files; the reason is shown to the operator, so it says what to do.
 */
export function unreadFileReason(name: string): string | undefined {
  if (name.startsWith('.') || name.startsWith('_')) return `a hidden file (its name starts with '${name[0]}')`;
  const lower = name.toLowerCase();
  if (!RAW_FILE_SUFFIXES.some((suffix) => lower.endsWith(suffix))) return `not a raw file kind (${RAW_FILE_SUFFIXES.join(', ')})`;
  return undefined;
}

export function rawPartitionPrefix(entity: Entity, runDate: string): string {
  return `raw/${entity}/${runDate}/`;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written YYYY-MM-DD. */
export function isIsoDate(value: string): boolean {
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dt = new Date(Date.UTC(y, mo - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d;
}
