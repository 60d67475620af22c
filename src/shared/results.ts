/**
 * Turns backend result pages into typed records the workflow can reason about. The page and row types
 * live here (src/activities/types.ts re-exports them), so shared code never imports from a layer above.
 */
import type { Entity } from './contract';
import { isEntity } from './contract';
import type { QualityCheck, QualityResult } from './quality';
import { QUALITY_CHECKS } from './quality';

export type Cell = string | number | boolean | null;

export interface ResultPage {
  columns: { name: string; type: string }[];
  rows: Cell[][];
  nextToken?: string;
}

/**
 * The verify operation's result set has these columns, one row per entity:
 * entity, warehouse_rows (rows of this batch in the warehouse), superseded_rows (rows of this batch
 * replaced by a later batch), revenue (orders only, of the rows of this batch in the warehouse).
 */
export interface VerifyRow {
  entity: Entity;
  warehouse_rows: number;
  superseded_rows: number;
  revenue: number | null;
}

export function pageToRecords(page: ResultPage): Record<string, Cell>[] {
  const names = page.columns.map((c) => c.name.toLowerCase());
  return page.rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i] ?? null])));
}

function num(value: Cell, what: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (value === null || value === '' || !Number.isFinite(n)) throw new Error(`${what} is not a number: ${JSON.stringify(value)}`);
  return n;
}

function bool(value: Cell): boolean {
  return value === true || value === 'true' || value === 1 || value === '1' || value === 't';
}

export function toQualityResults(records: Record<string, Cell>[]): QualityResult[] {
  return records.map((r) => {
    const entity = String(r.entity);
    const check = String(r.check);
    if (!isEntity(entity)) throw new Error(`quality report row has unknown entity ${entity}`);
    if (!(QUALITY_CHECKS as readonly string[]).includes(check)) throw new Error(`quality report row has unknown check ${check}`);
    return {
      entity,
      check: check as QualityCheck,
      value: num(r.value, `${entity}.${check} value`),
      threshold: num(r.threshold, `${entity}.${check} threshold`),
      passed: bool(r.passed),
    };
  });
}

export function toVerifyRows(records: Record<string, Cell>[]): VerifyRow[] {
  return records.map((r) => {
    const entity = String(r.entity);
    if (!isEntity(entity)) throw new Error(`verify row has unknown entity ${entity}`);
    return {
      entity,
      warehouse_rows: num(r.warehouse_rows, `${entity} warehouse_rows`),
      superseded_rows: num(r.superseded_rows ?? 0, `${entity} superseded_rows`),
      revenue: r.revenue === null || r.revenue === undefined ? null : num(r.revenue, `${entity} revenue`),
    };
  });
}

/**
 * Compares what the warehouse holds for the batch with what transform produced. Rows a later batch
 * replaced count as present, so re-running an old date stays verifiable.
 */
export function verifyProblems(rows: VerifyRow[], transformMetrics: Record<string, number> | undefined): string[] {
  const problems: string[] = [];
  if (!transformMetrics) return problems;
  for (const row of rows) {
    const expected = transformMetrics[`${row.entity}.loaded`];
    if (expected === undefined) continue;
    const found = row.warehouse_rows + row.superseded_rows;
    if (found !== expected) {
      problems.push(
        `${row.entity}: ${row.warehouse_rows} rows in the warehouse + ${row.superseded_rows} superseded, but transform produced ${expected}`,
      );
    }
    const revenue = transformMetrics['orders.revenue'];
    if (
      row.entity === 'orders' &&
      row.superseded_rows === 0 &&
      revenue !== undefined &&
      row.revenue !== null &&
      Math.abs(row.revenue - revenue) > 0.005
    ) {
      problems.push(`orders: warehouse revenue ${row.revenue.toFixed(2)} differs from transform's ${revenue.toFixed(2)}`);
    }
  }
  return problems;
}
