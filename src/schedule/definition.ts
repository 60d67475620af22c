/**
 * What the pipeline's schedule looks like: the options we send to Temporal, and the comparison with a
 * stored schedule that makes `create` idempotent (same settings: nothing is written).
 */
import type { ScheduleDescription, ScheduleOptions, ScheduleOverlapPolicy } from '@temporalio/client';
import { msToNumber } from '@temporalio/common';
import type { TypedSearchAttributes } from '@temporalio/common';
import type { DeepPartial, PipelineInput, PipelineOptions } from '../workflows/definitions';
import { SA_TRIGGER, WORKFLOW_TYPE } from '../workflows/definitions';
import { cronOfComment, cronToCalendar, normalizeCron } from './cron';
import { ScheduleSettingError } from './errors';
import { assertTimeZone } from './time-zone';

export const DEFAULT_SCHEDULE_ID = 'daily-ecommerce-pipeline';
export const DEFAULT_CRON = '40 19 * * *';
export const DEFAULT_TIME_ZONE = 'UTC';
export const DEFAULT_CATCHUP_WINDOW = '1 day';
/**
 * Prefix of the workflow ids a schedule starts; Temporal appends the scheduled time, e.g.
 * daily-ecommerce-pipeline-2025-10-27T19:40:00Z (manual runs are daily-pipeline-2025-10-27). It is the
 * schedule's own id so that two schedules firing in the same second do not claim the same workflow id,
 * which would make Temporal drop one of the two runs.
 */
export function scheduledWorkflowIdPrefix(scheduleId: string): string {
  return scheduleId;
}

export const OVERLAP_POLICIES = ['skip', 'buffer_one', 'buffer_all', 'cancel_other', 'terminate_other', 'allow_all'] as const;
export type OverlapName = (typeof OVERLAP_POLICIES)[number];

export function parseOverlap(value: string, setting = '--overlap'): ScheduleOverlapPolicy {
  const name = value.trim().toLowerCase().replace(/-/g, '_');
  if (!(OVERLAP_POLICIES as readonly string[]).includes(name)) {
    throw new ScheduleSettingError(setting, `${JSON.stringify(value)} is not one of ${OVERLAP_POLICIES.join(', ')}`);
  }
  return name.toUpperCase() as ScheduleOverlapPolicy;
}

export function parseDuration(value: string, setting: string): number {
  let ms: number;
  try {
    ms = msToNumber(value as Parameters<typeof msToNumber>[0]);
  } catch {
    ms = NaN;
  }
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new ScheduleSettingError(setting, `${JSON.stringify(value)} is not a duration such as "1 day", "12h" or "30 minutes"`);
  }
  return ms;
}

export interface PipelineScheduleSettings {
  scheduleId: string;
  cron: string;
  timeZone: string;
  overlap: ScheduleOverlapPolicy;
  /** How late a missed action (server down) may still start, in ms. */
  catchupWindowMs: number;
  taskQueue: string;
  /** Per-stage timing, retry and quality overrides every scheduled run gets (as `pipeline run --options`). */
  options?: DeepPartial<PipelineOptions>;
  /** Only when the schedule is created: start paused, with this note. */
  createPaused?: { note: string };
}

export function defaultSettings(taskQueue: string): PipelineScheduleSettings {
  return {
    scheduleId: DEFAULT_SCHEDULE_ID,
    cron: DEFAULT_CRON,
    timeZone: DEFAULT_TIME_ZONE,
    overlap: 'SKIP',
    catchupWindowMs: msToNumber(DEFAULT_CATCHUP_WINDOW),
    taskQueue,
  };
}

/** The workflow input of every scheduled run: no runDate, the workflow takes it from its scheduled time. */
export function scheduledInput(timeZone: string, options?: DeepPartial<PipelineOptions>): PipelineInput {
  return options ? { trigger: 'schedule', timeZone, options } : { trigger: 'schedule', timeZone };
}

export function buildScheduleOptions(s: PipelineScheduleSettings): ScheduleOptions {
  assertTimeZone(s.timeZone);
  return {
    scheduleId: s.scheduleId,
    spec: { calendars: [cronToCalendar(s.cron)], timezone: s.timeZone },
    action: {
      type: 'startWorkflow',
      workflowType: WORKFLOW_TYPE,
      workflowId: scheduledWorkflowIdPrefix(s.scheduleId),
      taskQueue: s.taskQueue,
      args: [scheduledInput(s.timeZone, s.options)],
      typedSearchAttributes: [{ key: SA_TRIGGER, value: 'schedule' }],
      staticSummary: `Daily e-commerce pipeline (schedule ${s.scheduleId}, ${normalizeCron(s.cron)} ${s.timeZone})`,
    },
    policies: { overlap: s.overlap, catchupWindow: s.catchupWindowMs },
    state: s.createPaused ? { paused: true, note: s.createPaused.note } : undefined,
  };
}

function triggerAttribute(attrs: ScheduleDescription['action']['typedSearchAttributes']): unknown {
  if (!attrs) return undefined;
  if (Array.isArray(attrs)) return attrs.find((p) => p.key.name === SA_TRIGGER.name)?.value;
  return (attrs as TypedSearchAttributes).get(SA_TRIGGER);
}

function stable(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

/** The settings a stored schedule differs in, by name; empty when it is already as wanted. */
export function scheduleDifferences(current: ScheduleDescription, wanted: PipelineScheduleSettings): string[] {
  const diffs: string[] = [];
  const calendars = current.spec.calendars ?? [];
  const crons = calendars.map((c) => cronOfComment(c.comment));
  const hasOtherSpecs = (current.spec.intervals?.length ?? 0) > 0 || (current.spec.skip?.length ?? 0) > 0;
  if (hasOtherSpecs || crons.length !== 1 || crons[0] !== normalizeCron(wanted.cron)) diffs.push('cron');
  if ((current.spec.timezone || 'UTC') !== wanted.timeZone) diffs.push('time zone');
  if (current.policies.overlap !== wanted.overlap) diffs.push('overlap policy');
  if (current.policies.catchupWindow !== wanted.catchupWindowMs) diffs.push('catch-up window');
  const action = current.action;
  if (action.workflowType !== WORKFLOW_TYPE) diffs.push('workflow type');
  if (action.taskQueue !== wanted.taskQueue) diffs.push('task queue');
  if (action.workflowId !== scheduledWorkflowIdPrefix(wanted.scheduleId)) diffs.push('workflow id');
  if (stable(action.args) !== stable([scheduledInput(wanted.timeZone, wanted.options)])) diffs.push('workflow input');
  if (triggerAttribute(action.typedSearchAttributes) !== 'schedule') diffs.push('search attributes');
  return diffs;
}
