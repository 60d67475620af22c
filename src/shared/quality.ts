/**
 * The quality gate of the validate stage: which checks exist, their default thresholds, and how a
 * measured value passes. Backends measure; this module decides, so both backends and the workflow agree.
 */
import type { Entity, RejectReason } from './contract';
import { ROW_REASONS } from './contract';

export const QUALITY_CHECKS = ['row_count', 'completeness', 'validity', 'key_uniqueness', 'referential_consistency'] as const;
export type QualityCheck = (typeof QUALITY_CHECKS)[number];

/**
 * Which of a batch's rows (after exact copies collapse) a formula counts: all, the complete ones, or
 * those whose final reason is in (or not in) a list; an accepted row has no reason.
 */
export type RowSet = 'all' | 'complete' | { reasonIn: readonly RejectReason[] } | { reasonNotIn: readonly RejectReason[] };

/**
 * A check's value as an aggregate of the per-row verdicts (the design's formulas): a count, a share
 * `count(of) / count(among)`, or one minus it. Nothing to measure (an empty `among`) gives 1.0.
 */
export type GateFormula =
  | { check: QualityCheck; value: 'count'; of: RowSet }
  | { check: QualityCheck; value: 'share' | 'oneMinusShare'; of: RowSet; among: RowSet; entities?: readonly Entity[] };

export const GATE_FORMULAS: readonly GateFormula[] = [
  { check: 'row_count', value: 'count', of: 'all' },
  { check: 'completeness', value: 'share', of: 'complete', among: 'all' },
  { check: 'validity', value: 'share', of: { reasonNotIn: ROW_REASONS }, among: 'all' },
  { check: 'key_uniqueness', value: 'oneMinusShare', of: { reasonIn: ['duplicate_key'] }, among: { reasonNotIn: ROW_REASONS } },
  {
    check: 'referential_consistency',
    value: 'oneMinusShare',
    of: { reasonIn: ['unknown_customer', 'unknown_product'] },
    among: { reasonNotIn: [...ROW_REASONS, 'duplicate_key'] },
    entities: ['orders'],
  },
];

export interface QualityThresholds {
  /** Share of rows whose required fields are all present. */
  completeness: number;
  /** Share of rows whose typed fields parse and are in range. */
  validity: number;
  /** Share of rows whose key is not repeated with different values. */
  keyUniqueness: number;
  /** Share of orders whose customer and product exist. */
  referentialConsistency: number;
  /** At least this many rows per entity. */
  minRows: number;
  /**
   * What the gate does when the partitions hold something that was not read (a file of another
   * kind, a folder, a link, an empty file, a sheet matching no entity): `warn` names it in the
   * status and the notice; `fail` also fails the gate.
   */
  unreadFiles?: 'warn' | 'fail';
}

export const DEFAULT_QUALITY_THRESHOLDS: QualityThresholds = {
  completeness: 0.95,
  validity: 0.97,
  keyUniqueness: 0.99,
  referentialConsistency: 0.99,
  minRows: 1,
  unreadFiles: 'warn',
};

export interface QualityMeasurement {
  entity: Entity;
  check: QualityCheck;
  value: number;
}

export interface QualityResult extends QualityMeasurement {
  threshold: number;
  passed: boolean;
}

export function thresholdFor(check: QualityCheck, t: QualityThresholds): number {
  switch (check) {
    case 'row_count':
      return t.minRows;
    case 'completeness':
      return t.completeness;
    case 'validity':
      return t.validity;
    case 'key_uniqueness':
      return t.keyUniqueness;
    case 'referential_consistency':
      return t.referentialConsistency;
  }
}

/** Every check passes when its value is at least its threshold. */
export function judge(m: QualityMeasurement, t: QualityThresholds): QualityResult {
  const threshold = thresholdFor(m.check, t);
  return { ...m, threshold, passed: m.value >= threshold };
}

export function gatePassed(results: readonly QualityResult[]): boolean {
  return results.length > 0 && results.every((r) => r.passed);
}
