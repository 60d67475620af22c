/**
 * The validate stage on DuckDB: the gate's formulas (src/shared/quality.ts) over the batch's per-row
 * verdicts (src/rules, run by verdicts.ts, which keeps them for the transform), judged against the
 * thresholds and recorded in `analytics.quality_reports`.
 */
import type { QualityResult, QualityThresholds } from '../../shared/quality';
import { judge } from '../../shared/quality';
import type { ResultPage } from '../types';
import type { Lake } from './lake';
import type { Sql } from './warehouse';
import { batchBronze } from './bronze';
import { measureGate, openVerdicts } from './verdicts';

export const QUALITY_COLUMNS: ResultPage['columns'] = [
  { name: 'entity', type: 'varchar' },
  { name: 'check', type: 'varchar' },
  { name: 'value', type: 'double' },
  { name: 'threshold', type: 'double' },
  { name: 'passed', type: 'boolean' },
];

/** Measures, judges and records the batch's quality report; returns it in result-page order. */
export async function runQualityChecks(
  db: Sql,
  lake: Lake,
  runDate: string,
  thresholds: QualityThresholds,
  queryId: string,
  onEntity?: (done: number) => void,
  largeFromRows?: number,
): Promise<QualityResult[]> {
  const bronze = await batchBronze(db, lake, runDate);
  await openVerdicts(db, lake, runDate, bronze, { jobId: queryId, step: onEntity, largeFromRows });
  const results = (await measureGate(db)).map((m) => judge(m, thresholds));
  await db.run('BEGIN TRANSACTION');
  try {
    await db.run('DELETE FROM analytics.quality_reports WHERE run_date = $1::DATE', [runDate]);
    // One statement for the whole report: a small day's validate is mostly statement overhead.
    const rows = results.map(
      (_, i) =>
        `($1::DATE, $${5 * i + 3}, $${5 * i + 4}, $${5 * i + 5}::DOUBLE, $${5 * i + 6}::DOUBLE, $${5 * i + 7}::BOOLEAN, $2, now()::TIMESTAMP)`,
    );
    const params = results.flatMap((r) => [r.entity, r.check, r.value, r.threshold, r.passed]);
    if (rows.length > 0) await db.run(`INSERT INTO analytics.quality_reports VALUES ${rows.join(', ')}`, [runDate, queryId, ...params]);
    await db.run('COMMIT');
  } catch (err) {
    await db.run('ROLLBACK');
    throw err;
  }
  return results;
}

export function qualityPage(results: QualityResult[]): ResultPage {
  return { columns: QUALITY_COLUMNS, rows: results.map((r) => [r.entity, r.check, r.value, r.threshold, r.passed]) };
}
