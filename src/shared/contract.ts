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
  'missing_key',
  'bad_date',
  'bad_number',
  'out_of_range',
  'duplicate_key',
  'unknown_customer',
  'unknown_product',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Raw file kinds a partition may hold. */
export const RAW_FILE_SUFFIXES = ['.csv', '.csv.gz', '.xlsx'] as const;

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
