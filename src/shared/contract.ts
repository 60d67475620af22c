/**
 * The data contract of ../shared/design/pipeline.md, as values both the workflow and the backends use.
 * Pure data only: this module is bundled into workflow code.
 */

export const ENTITIES = ['customers', 'products', 'orders'] as const;
export type Entity = (typeof ENTITIES)[number];

export const STAGES = ['awaitRawData', 'catalog', 'validate', 'transform', 'load', 'verify', 'notify'] as const;
export type StageName = (typeof STAGES)[number];

export function isStageName(value: string): value is StageName {
  return (STAGES as readonly string[]).includes(value);
}

export function isEntity(value: string): value is Entity {
  return (ENTITIES as readonly string[]).includes(value);
}

export type ColumnType = 'integer' | 'text' | 'date' | 'decimal';

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  required: boolean;
  key?: boolean;
}

export const COLUMNS: Record<Entity, readonly ColumnSpec[]> = {
  customers: [
    { name: 'customer_id', type: 'integer', required: true, key: true },
    { name: 'first_name', type: 'text', required: true },
    { name: 'last_name', type: 'text', required: true },
    { name: 'email', type: 'text', required: true },
    { name: 'join_date', type: 'date', required: true },
    { name: 'city', type: 'text', required: true },
    { name: 'state', type: 'text', required: true },
  ],
  products: [
    { name: 'product_id', type: 'integer', required: true, key: true },
    { name: 'product_name', type: 'text', required: true },
    { name: 'category', type: 'text', required: true },
    { name: 'price', type: 'decimal', required: true },
  ],
  orders: [
    { name: 'order_id', type: 'integer', required: true, key: true },
    { name: 'customer_id', type: 'integer', required: true },
    { name: 'product_id', type: 'integer', required: true },
    { name: 'order_date', type: 'date', required: true },
    { name: 'order_amount', type: 'decimal', required: true },
    { name: 'quantity', type: 'integer', required: true },
    { name: 'delivery_date', type: 'date', required: false },
  ],
};

export const KEY_COLUMN: Record<Entity, string> = {
  customers: 'customer_id',
  products: 'product_id',
  orders: 'order_id',
};

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
