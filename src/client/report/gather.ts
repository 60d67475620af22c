/**
 * What `pipeline report` shows, gathered in one place: the run's `status` query (any backend) and,
 * on the local backend, the warehouse's load audit, rejects and daily revenue. Rendering is
 * render.ts's; nothing here writes.
 */
import { existsSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import type { DuckDBInstance } from '@duckdb/node-api';
import { openForReading } from '../../activities/local/warehouse';
import { ENTITIES, STAGES } from '../../shared/contract';
import type { PipelineStatus, StageStatus } from '../../workflows/definitions';
import { SA_RUN_DATE, statusQuery } from '../../workflows/definitions';
import { findRun } from '../runs';
import type { ReportData, WarehouseFacts } from './model';
import { addDays, REVENUE_DAYS } from './model';

export type { ReportData } from './model';

type Cell = string | number | bigint | boolean | null | undefined;

async function rows(instance: DuckDBInstance, sql: string, params: string[]): Promise<Record<string, Cell>[]> {
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql, params);
    return reader.getRowObjectsJS() as Record<string, Cell>[];
  } finally {
    connection.closeSync();
  }
}

const n = (v: Cell): number => (v === null || v === undefined ? 0 : Number(v));

/** The warehouse's side of a batch: load audit, rejects, and the revenue of the days up to it. */
export async function readWarehouseFacts(
  warehousePath: string,
  runDate: string,
  options: { waitMs?: number; onWait?: (holder: string) => void } = {},
): Promise<WarehouseFacts> {
  const instance = await openForReading(warehousePath, options);
  try {
    const audit = await rows(
      instance,
      `SELECT ${ENTITIES.flatMap((e) => ['read', 'loaded', 'rejected', 'duplicates'].map((m) => `${e}_${m}`)).join(', ')}
         FROM analytics.load_audit WHERE batch_date = CAST($1 AS DATE) ORDER BY loaded_at DESC LIMIT 1`,
      [runDate],
    );
    const counts = audit[0]
      ? ENTITIES.map((entity) => ({
          entity,
          read: n(audit[0][`${entity}_read`]),
          loaded: n(audit[0][`${entity}_loaded`]),
          rejected: n(audit[0][`${entity}_rejected`]),
          duplicates: n(audit[0][`${entity}_duplicates`]),
        }))
      : undefined;
    const reasons = await rows(
      instance,
      `SELECT entity, reason, count(*) AS n FROM analytics.rejects WHERE batch_date = CAST($1 AS DATE)
         GROUP BY entity, reason ORDER BY entity, n DESC, reason`,
      [runDate],
    );
    const samples = await rows(
      instance,
      `SELECT entity, source_file, row_number, reason, raw_record FROM analytics.rejects WHERE batch_date = CAST($1 AS DATE)
         ORDER BY entity, source_file, row_number LIMIT 50`,
      [runDate],
    );
    const revenueFrom = addDays(runDate, -(REVENUE_DAYS - 1));
    const revenue = await rows(
      instance,
      `SELECT CAST(order_date AS VARCHAR) AS day, CAST(total_revenue AS DOUBLE) AS revenue, total_orders AS orders
         FROM analytics.agg_daily_sales WHERE order_date BETWEEN CAST($1 AS DATE) AND CAST($2 AS DATE) ORDER BY order_date`,
      [revenueFrom, runDate],
    );
    const rejectReasons = reasons.map((r) => ({ entity: String(r.entity), reason: String(r.reason), count: n(r.n) }));
    return {
      counts,
      rejectReasons,
      rejectSamples: samples.map((r) => ({
        entity: String(r.entity),
        sourceFile: String(r.source_file),
        rowNumber: n(r.row_number),
        reason: String(r.reason),
        rawRecord: String(r.raw_record),
      })),
      rejectTotal: rejectReasons.reduce((sum, r) => sum + r.count, 0),
      revenueFrom,
      revenueTo: runDate,
      revenue: revenue.map((r) => ({ date: String(r.day), revenue: n(r.revenue), orders: n(r.orders) })),
    };
  } finally {
    instance.closeSync();
  }
}

/** The stages a run's memo keeps (state, attempts, message) as a status, for a run no worker answers for. */
function statusFromMemo(runDate: string, memo: unknown): PipelineStatus | undefined {
  const m = memo as { state?: string; stages?: Partial<StageStatus>[] } | undefined;
  if (!m?.stages?.length) return undefined;
  return {
    runDate,
    trigger: 'manual',
    state: (m.state ?? 'running') as PipelineStatus['state'],
    stages: m.stages
      .filter((s) => s.stage && (STAGES as readonly string[]).includes(s.stage))
      .map((s) => ({
        stage: s.stage!,
        state: s.state ?? 'pending',
        attempts: s.attempts ?? 0,
        message: s.message,
        externalIds: {},
        metrics: {},
      })),
    operatorActions: [],
    noticesSent: [],
  };
}

export interface GatherOptions {
  client: Client;
  /** A run date (the newest run of it) or a workflow id. */
  target: string;
  backend: 'local' | 'aws';
  warehousePath: string;
  webUiUrl?: string;
  /** How long to wait while a worker writes the warehouse (default 30 s). */
  waitMs?: number;
  onWait?: (holder: string) => void;
  /** How long the status query may take before the run counts as served by no worker (default 5 s). */
  queryTimeoutMs?: number;
  now?: Date;
}

export async function gatherReport(options: GatherOptions): Promise<ReportData> {
  const handle = await findRun(options.client, options.target);
  const desc = await handle.describe();
  const closed = desc.status.name;
  // As runs.ts's readStatus, but the query is cancelled at its deadline: a run no worker serves
  // must not keep the command's process alive after the report is written.
  let queried: PipelineStatus | undefined;
  try {
    queried = await options.client.withDeadline(Date.now() + (options.queryTimeoutMs ?? 5_000), () => handle.query(statusQuery));
  } catch {
    queried = undefined;
  }
  const memo: unknown = desc.memo?.status;
  const runDate = queried?.runDate ?? desc.typedSearchAttributes.get(SA_RUN_DATE) ?? options.target;
  const status = queried ?? statusFromMemo(String(runDate), memo);
  const statusNote = queried
    ? undefined
    : status
      ? 'No worker answered the status query: the stages below come from the summary the run keeps in its memo (no times, counts or quality checks). Start a worker for the full report.'
      : 'No worker answered the status query and the run keeps no summary yet: start a worker for the full report.';
  const namespace = options.client.options.namespace;
  const runUrl = options.webUiUrl
    ? `${options.webUiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(handle.workflowId)}/${encodeURIComponent(desc.runId)}/history`
    : undefined;
  const base: ReportData = {
    runDate: String(runDate),
    generatedAt: (options.now ?? new Date()).toISOString(),
    backend: options.backend,
    workflowId: handle.workflowId,
    runId: desc.runId,
    execution: closed,
    status,
    statusNote,
    runUrl,
  };
  return { ...base, ...(await gatherWarehouse(options.backend, options.warehousePath, base.runDate, options)) };
}

/** The warehouse parts, or the note saying why they are left out. */
export async function gatherWarehouse(
  backend: 'local' | 'aws',
  warehousePath: string,
  runDate: string,
  options: { waitMs?: number; onWait?: (holder: string) => void } = {},
): Promise<Pick<ReportData, 'warehouse' | 'warehouseNote'>> {
  if (backend === 'aws') {
    return {
      warehouseNote:
        "The aws backend's warehouse is Redshift, which this report does not read: rejects and the revenue chart are left out. The stages, quality checks, counts, cost figures and unread items come from the run itself.",
    };
  }
  if (!existsSync(warehousePath)) {
    return {
      warehouseNote: `No warehouse at ${warehousePath}: rejects and the revenue chart are left out (the load stage creates it; set PIPELINE_WAREHOUSE_PATH if it lives elsewhere).`,
    };
  }
  try {
    return { warehouse: await readWarehouseFacts(warehousePath, runDate, options) };
  } catch (err) {
    return {
      warehouseNote: `The warehouse ${warehousePath} could not be read (${(err as Error).message.split('\n')[0]}): rejects and the revenue chart are left out.`,
    };
  }
}
