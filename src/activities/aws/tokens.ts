/**
 * Idempotency tokens derived from the run, the stage, its attempt and what is started, so a retried
 * activity reattaches to the external work it already started instead of starting a second copy.
 */
import { createHash } from 'node:crypto';
import type { RunRef } from '../types';

export function runKey(run: RunRef, what: string): string {
  // Without an execution id the key keeps its earlier form, so work started before it existed is found.
  const execution = run.executionId ? `${run.executionId}/` : '';
  return `${run.workflowId}/${execution}${run.stage}/${run.stageAttempt}/${what}`;
}

/** 64 hex characters: inside Athena's 32..128 and Redshift Data's 1..64 token limits. */
export function idempotencyToken(run: RunRef, what: string): string {
  return createHash('sha256').update(runKey(run, what)).digest('hex');
}
