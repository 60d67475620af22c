/**
 * Failure classes shared by both backends. A failure the operator must fix (configuration, a missing
 * resource, permissions, bad data) fails fast and names the resource; anything else is retried by
 * the activity's retry policy with backoff.
 */
import { ApplicationFailure } from '@temporalio/common';

export const NON_RETRYABLE_TYPES = ['BadConfig', 'MissingResource', 'AccessDenied', 'InvalidData'] as const;
export type NonRetryableType = (typeof NON_RETRYABLE_TYPES)[number];

function fail(type: NonRetryableType, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? [] : [details] });
}

export const badConfig = (message: string, details?: unknown) => fail('BadConfig', message, details);
export const missingResource = (message: string, details?: unknown) => fail('MissingResource', message, details);
export const accessDenied = (message: string, details?: unknown) => fail('AccessDenied', message, details);
export const invalidData = (message: string, details?: unknown) => fail('InvalidData', message, details);
