/**
 * Default timings and retry policies per stage, suited to a daily run, and their merge with the
 * overrides a run may carry in its input (tests use short ones).
 */
import type { Duration, RetryPolicy } from '@temporalio/common';
import { DEFAULT_QUALITY_THRESHOLDS } from '../shared/quality';
import type { DeepPartial, PipelineOptions, StageOptions } from './definitions';

const CALL_RETRY: RetryPolicy = {
  initialInterval: '2 seconds',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 8,
};

function stage(pollInterval: Duration, timeout: Duration, extra: Partial<StageOptions> = {}): StageOptions {
  return {
    pollInterval,
    firstPollInterval: '1 second',
    timeout,
    retry: CALL_RETRY,
    activityTimeout: '2 minutes',
    maxAutoRestarts: 0,
    ...extra,
  };
}

export const DEFAULT_OPTIONS: PipelineOptions = {
  stages: {
    extract: { enabled: false, retry: CALL_RETRY, activityTimeout: '2 hours', heartbeatTimeout: '2 minutes' },
    awaitRawData: {
      pollInterval: '5 minutes',
      timeout: '12 hours',
      retry: CALL_RETRY,
      activityTimeout: '1 minute',
      maxAutoRestarts: 0,
      softDeadline: '2 hours',
      pollsPerHistory: 40,
    },
    catalog: stage('30 seconds', '30 minutes'),
    validate: stage('5 seconds', '15 minutes'),
    transform: stage('30 seconds', '2 hours', { maxAutoRestarts: 2 }),
    load: stage('10 seconds', '1 hour', { maxAutoRestarts: 2 }),
    verify: stage('5 seconds', '15 minutes'),
    notify: stage('5 seconds', '10 minutes', { retry: { ...CALL_RETRY, maximumAttempts: 20, maximumInterval: '5 minutes' } }),
  },
  operatorWait: '24 hours',
  quality: DEFAULT_QUALITY_THRESHOLDS,
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepMerge<T>(base: T, override: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(override)) return (override === undefined ? base : override) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === undefined) continue;
    out[key] = key in base ? deepMerge((base as Record<string, unknown>)[key], value) : value;
  }
  return out as T;
}

export function resolveOptions(overrides: DeepPartial<PipelineOptions> | undefined): PipelineOptions {
  return deepMerge(DEFAULT_OPTIONS, overrides);
}
