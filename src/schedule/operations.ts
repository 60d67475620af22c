/**
 * The pipeline schedule's life cycle over Temporal's ScheduleClient: create-or-update (idempotent),
 * describe, pause, unpause, trigger, backfill of a date range, delete.
 */
import type { Client, ScheduleDescription, ScheduleHandle, ScheduleOverlapPolicy } from '@temporalio/client';
import { ScheduleAlreadyRunning, ScheduleNotFoundError } from '@temporalio/client';
import type { PipelineScheduleSettings } from './definition';
import { buildScheduleOptions, scheduleDifferences } from './definition';
import { ScheduleSettingError } from './errors';
import { addDays, datesBetween, startOfDay } from './time-zone';

/** A backfill longer than this is more likely a typo than an intention. */
export const MAX_BACKFILL_DAYS = 3660;

export class ScheduleMissingError extends Error {
  override name = 'ScheduleMissingError';
  constructor(
    readonly scheduleId: string,
    namespace: string,
  ) {
    super(`no schedule ${JSON.stringify(scheduleId)} in namespace ${namespace}; create it with \`pipeline schedule create\``);
  }
}

export type CreateOutcome = { outcome: 'created' } | { outcome: 'unchanged' } | { outcome: 'updated'; changed: string[] };

function handleFor(client: Client, scheduleId: string): ScheduleHandle {
  return client.schedule.getHandle(scheduleId);
}

/** Runs `fn`, turning "no such schedule" into a message that says what to do. */
async function onExisting<T>(client: Client, scheduleId: string, fn: (h: ScheduleHandle) => Promise<T>): Promise<T> {
  try {
    return await fn(handleFor(client, scheduleId));
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new ScheduleMissingError(scheduleId, client.options.namespace);
    throw err;
  }
}

/**
 * Creates the schedule, or brings an existing one in line with `settings`. Nothing is written when
 * it already matches, and an update keeps its paused state and note (an update that forgot them
 * would silently unpause a schedule an operator paused).
 */
export async function createOrUpdateSchedule(client: Client, settings: PipelineScheduleSettings): Promise<CreateOutcome> {
  const options = buildScheduleOptions(settings);
  try {
    await client.schedule.create(options);
    return { outcome: 'created' };
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = handleFor(client, settings.scheduleId);
  if (scheduleDifferences(await handle.describe(), settings).length === 0) return { outcome: 'unchanged' };
  let changed: string[] = [];
  await handle.update((current) => {
    changed = scheduleDifferences(current, settings);
    return {
      spec: options.spec,
      action: options.action,
      policies: options.policies,
      state: { paused: current.state.paused, note: current.state.note, remainingActions: current.state.remainingActions },
    };
  });
  return { outcome: 'updated', changed };
}

export function describeSchedule(client: Client, scheduleId: string): Promise<ScheduleDescription> {
  return onExisting(client, scheduleId, (h) => h.describe());
}

export function pauseSchedule(client: Client, scheduleId: string, note: string): Promise<void> {
  return onExisting(client, scheduleId, (h) => h.pause(note));
}

export function unpauseSchedule(client: Client, scheduleId: string, note: string): Promise<void> {
  return onExisting(client, scheduleId, (h) => h.unpause(note));
}

/** Starts one run now (its run date is today's date in the schedule's time zone), even when paused. */
export function triggerSchedule(client: Client, scheduleId: string, overlap: ScheduleOverlapPolicy = 'ALLOW_ALL'): Promise<void> {
  return onExisting(client, scheduleId, (h) => h.trigger(overlap));
}

export type ScheduleAction = ScheduleDescription['info']['recentActions'][number];

/**
 * Triggers the schedule and waits (up to `waitMs`) for the action it records, so the caller can name
 * the run. Undefined when none shows in time: the overlap policy skipped it, or Temporal dropped it
 * because a run with the same workflow id (scheduled runs are named after their second) is still open.
 */
export async function triggerAndFindRun(
  client: Client,
  scheduleId: string,
  overlap: ScheduleOverlapPolicy = 'ALLOW_ALL',
  waitMs = 10_000,
): Promise<ScheduleAction | undefined> {
  const before = await describeSchedule(client, scheduleId);
  const seen = new Set(before.info.recentActions.map((a) => a.action.workflow.workflowId));
  await triggerSchedule(client, scheduleId, overlap);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const found = (await describeSchedule(client, scheduleId)).info.recentActions.find((a) => !seen.has(a.action.workflow.workflowId));
    if (found || Date.now() >= deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export function deleteSchedule(client: Client, scheduleId: string): Promise<void> {
  return onExisting(client, scheduleId, (h) => h.delete());
}

export interface BackfillPlan {
  dates: string[];
  timeZone: string;
  /** Exclusive start and inclusive end of the range the server evaluates the schedule in. */
  start: Date;
  end: Date;
}

/**
 * The time range that covers exactly the local days `from`..`to` in the schedule's time zone. The
 * range starts one second before the first day's midnight and ends one second before the day after
 * the last one: schedule times fall on whole minutes, so this holds whichever of its ends the server
 * treats as inclusive.
 */
export function planBackfill(from: string, to: string, timeZone: string): BackfillPlan {
  if (from > to) throw new ScheduleSettingError('--from', `${from} is after --to ${to}`);
  const dates = datesBetween(from, to);
  if (dates.length > MAX_BACKFILL_DAYS) {
    throw new ScheduleSettingError('--to', `${from}..${to} is ${dates.length} days; backfill at most ${MAX_BACKFILL_DAYS} days at a time`);
  }
  return {
    dates,
    timeZone,
    start: new Date(startOfDay(from, timeZone).getTime() - 1000),
    end: new Date(startOfDay(addDays(to, 1), timeZone).getTime() - 1000),
  };
}

/**
 * One scheduled action per date of the range, each scheduled at that date's cron time: the runs are
 * schedule runs (the workflow takes its run date from TemporalScheduledStartTime and records them as
 * backfills). BUFFER_ALL runs them one after another in date order; ALLOW_ALL runs them together.
 */
export async function backfillSchedule(
  client: Client,
  scheduleId: string,
  from: string,
  to: string,
  overlap: ScheduleOverlapPolicy,
): Promise<BackfillPlan> {
  return onExisting(client, scheduleId, async (h) => {
    const description = await h.describe();
    const plan = planBackfill(from, to, description.spec.timezone || 'UTC');
    await h.backfill({ start: plan.start, end: plan.end, overlap });
    return plan;
  });
}
