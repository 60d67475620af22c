/** What a report holds, and the pure helpers both gather.ts and render.ts use. No I/O. */
import type { Entity } from '../../shared/contract';
import { ENTITIES } from '../../shared/contract';
import type { PipelineStatus } from '../../workflows/definitions';

/** How many days of revenue the chart shows, ending at the run date. */
export const REVENUE_DAYS = 30;

export interface EntityCounts {
  entity: Entity;
  read?: number;
  loaded?: number;
  rejected?: number;
  duplicates?: number;
}

export interface RejectReason {
  entity: string;
  reason: string;
  count: number;
}

export interface RejectSample {
  entity: string;
  sourceFile: string;
  rowNumber: number;
  reason: string;
  rawRecord: string;
}

export interface DailyRevenue {
  /** YYYY-MM-DD */
  date: string;
  revenue: number;
  orders: number;
}

export interface WarehouseFacts {
  /** The batch's row counts from `analytics.load_audit` (its latest load), when it was loaded. */
  counts?: EntityCounts[];
  rejectReasons: RejectReason[];
  /** The first rejects of the batch (by entity, file, row), for a look at what was refused. */
  rejectSamples: RejectSample[];
  rejectTotal: number;
  /** First and last day of the chart, inclusive. */
  revenueFrom: string;
  revenueTo: string;
  /** Only the days that have a row in `analytics.agg_daily_sales`, oldest first. */
  revenue: DailyRevenue[];
}

export interface ReportData {
  runDate: string;
  generatedAt: string;
  backend: 'local' | 'aws';
  workflowId?: string;
  runId?: string;
  /** The Temporal execution status: RUNNING, COMPLETED, FAILED, ... */
  execution?: string;
  status?: PipelineStatus;
  /** Said when the status is partial (no worker answered the query) or missing. */
  statusNote?: string;
  /** A link to the run in the Temporal Web UI. */
  runUrl?: string;
  warehouse?: WarehouseFacts;
  /** Why the warehouse parts are left out (aws backend, no warehouse file, unreadable). */
  warehouseNote?: string;
}

/** `date` plus `days` (negative to go back), as YYYY-MM-DD. */
export function addDays(date: string, days: number): string {
  const t = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/** The per-entity counts in a run's stage metrics (`orders.read`, ...), transform's first. */
export function countsFromStatus(status: PipelineStatus | undefined): EntityCounts[] | undefined {
  if (!status) return undefined;
  const order = ['transform', 'load', 'verify'];
  const stages = [...status.stages].sort((a, b) => rank(order, a.stage) - rank(order, b.stage));
  const out: EntityCounts[] = [];
  for (const entity of ENTITIES) {
    const row: EntityCounts = { entity };
    for (const m of ['read', 'loaded', 'rejected', 'duplicates'] as const) {
      const v = stages.map((s) => s.metrics[`${entity}.${m}`]).find((x) => x !== undefined);
      if (v !== undefined) row[m] = v;
    }
    if (Object.keys(row).length > 1) out.push(row);
  }
  return out.length ? out : undefined;
}

function rank(order: string[], stage: string): number {
  const i = order.indexOf(stage);
  return i < 0 ? order.length : i;
}
