/**
 * Works out a run's logical date and how it was started. A scheduled run has no date in its input:
 * it takes the date of its scheduled start time in the schedule's time zone.
 */
import { ApplicationFailure, defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { workflowInfo } from '@temporalio/workflow';
import { isIsoDate } from '../shared/contract';
import type { PipelineInput, Trigger } from './definitions';

const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/** A scheduled action started this long after its scheduled time was started by a backfill. */
const BACKFILL_LAG_MS = 26 * 60 * 60 * 1000;

export function dateInZone(at: Date, timeZone: string): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

export function resolveRunDate(input: PipelineInput): { runDate: string; trigger: Trigger } {
  const info = workflowInfo();
  const scheduledAt = info.typedSearchAttributes.get(SCHEDULED_START);
  let runDate = input.runDate;
  if (runDate === undefined) {
    if (!scheduledAt) {
      throw ApplicationFailure.nonRetryable(
        'runDate is missing and the run was not started by a schedule: pass runDate (YYYY-MM-DD)',
        'BadInput',
      );
    }
    runDate = dateInZone(scheduledAt, input.timeZone ?? 'UTC');
  }
  if (!isIsoDate(runDate)) {
    throw ApplicationFailure.nonRetryable(`runDate ${JSON.stringify(runDate)} is not a valid date (expected YYYY-MM-DD)`, 'BadInput');
  }
  let trigger: Trigger = input.trigger ?? (scheduledAt ? 'schedule' : 'manual');
  if (trigger === 'schedule' && scheduledAt && info.startTime.getTime() - scheduledAt.getTime() > BACKFILL_LAG_MS) {
    trigger = 'backfill';
  }
  return { runDate, trigger };
}
