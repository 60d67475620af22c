/**
 * Turns a five-field cron expression into a Temporal calendar spec. We do the translation ourselves,
 * instead of sending `cronExpressions`, for two reasons: a bad expression is reported here with the
 * field that is wrong, and the expression travels in the calendar's comment, which the server keeps,
 * so `create` can tell whether the stored schedule already has this cron (the server stores cron
 * strings only in their compiled form).
 */
import type { CalendarSpec, DayOfWeek, LooseRange, Month } from '@temporalio/client';
import { DAYS_OF_WEEK, MONTHS } from '@temporalio/client';
import { ScheduleSettingError } from './errors';

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

interface FieldRule {
  name: string;
  min: number;
  max: number;
  /** Three-letter names accepted in place of numbers, indexed from `min`. */
  names?: readonly string[];
}

const FIELDS: readonly FieldRule[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS.map((m) => m.slice(0, 3)) },
  // 7 is Sunday too, as in most crons.
  { name: 'day of week', min: 0, max: 7, names: DAYS_OF_WEEK.map((d) => d.slice(0, 3)) },
];

interface NumericRange {
  start: number;
  end: number;
  step: number;
}

export const CRON_COMMENT_PREFIX = 'cron: ';

function parseValue(text: string, rule: FieldRule, cron: string): number {
  const byName = rule.names?.indexOf(text.toUpperCase()) ?? -1;
  const value = byName >= 0 ? byName + rule.min : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(value) || value < rule.min || value > rule.max) {
    throw new ScheduleSettingError(
      '--cron',
      `${JSON.stringify(cron)}: ${rule.name} ${JSON.stringify(text)} is not in ${rule.min}-${rule.max}`,
    );
  }
  return value;
}

/** `*` is returned as undefined: the field matches everything. */
function parseField(text: string, rule: FieldRule, cron: string): NumericRange[] | undefined {
  if (text === '*' || text === '?') return undefined;
  return text.split(',').map((item) => {
    const [base, stepText, extra] = item.split('/');
    if (extra !== undefined || base === undefined || base === '') {
      throw new ScheduleSettingError(
        '--cron',
        `${JSON.stringify(cron)}: ${rule.name} ${JSON.stringify(item)} is not a value, range or step`,
      );
    }
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) {
        throw new ScheduleSettingError(
          '--cron',
          `${JSON.stringify(cron)}: ${rule.name} step ${JSON.stringify(stepText)} must be a whole number >= 1`,
        );
      }
      step = Number(stepText);
    }
    if (base === '*') return { start: rule.min, end: rule.max, step };
    const [from, to] = base.split('-');
    const start = parseValue(from!, rule, cron);
    // `5/15` means from 5 to the end of the field, every 15.
    const end = to !== undefined ? parseValue(to, rule, cron) : stepText !== undefined ? rule.max : start;
    if (end < start) {
      throw new ScheduleSettingError('--cron', `${JSON.stringify(cron)}: ${rule.name} range ${JSON.stringify(base)} runs backwards`);
    }
    return { start, end, step };
  });
}

function loose<T>(ranges: NumericRange[], label: (n: number) => T): LooseRange<T>[] {
  return ranges.map((r) => ({ start: label(r.start), end: label(r.end), step: r.step }));
}

function daysOfWeek(ranges: NumericRange[]): LooseRange<DayOfWeek>[] {
  // Sunday may be written 0 or 7: expand to a set of days, then give back runs of consecutive days.
  const days = new Set<number>();
  for (const r of ranges) for (let v = r.start; v <= r.end; v += r.step) days.add(v % 7);
  const sorted = [...days].sort((a, b) => a - b);
  const runs: NumericRange[] = [];
  for (const d of sorted) {
    const last = runs[runs.length - 1];
    if (last && last.end === d - 1) last.end = d;
    else runs.push({ start: d, end: d, step: 1 });
  }
  return loose(runs, (n) => DAYS_OF_WEEK[n]!);
}

/** Normalises whitespace and macros, so that equal schedules compare equal. */
export function normalizeCron(cron: string): string {
  const trimmed = cron.trim().replace(/\s+/g, ' ');
  return MACROS[trimmed.toLowerCase()] ?? trimmed;
}

export function cronToCalendar(cron: string): CalendarSpec {
  const normalized = normalizeCron(cron);
  const parts = normalized.split(' ');
  if (parts.length !== 5) {
    throw new ScheduleSettingError(
      '--cron',
      `${JSON.stringify(cron)} has ${parts.length} fields; expected 5 (minute hour day-of-month month day-of-week), e.g. "40 19 * * *"`,
    );
  }
  const [minute, hour, dom, month, dow] = parts.map((p, i) => parseField(p, FIELDS[i]!, cron));
  if (dom && dow) {
    // Classic cron fires when EITHER day field matches; Temporal's calendars need BOTH to match.
    throw new ScheduleSettingError(
      '--cron',
      `${JSON.stringify(cron)} restricts both day of month and day of week, which cron and Temporal read differently; restrict only one`,
    );
  }
  const spec: CalendarSpec = {
    second: 0,
    minute: minute ? loose(minute, (n) => n) : '*',
    hour: hour ? loose(hour, (n) => n) : '*',
    dayOfMonth: dom ? loose(dom, (n) => n) : '*',
    month: month ? loose(month, (n) => MONTHS[n - 1]! as Month) : '*',
    dayOfWeek: dow ? daysOfWeek(dow) : '*',
    comment: `${CRON_COMMENT_PREFIX}${normalized}`,
  };
  return spec;
}

/** The cron a calendar was made from, when it was made by cronToCalendar. */
export function cronOfComment(comment: string | undefined): string | undefined {
  return comment?.startsWith(CRON_COMMENT_PREFIX) ? comment.slice(CRON_COMMENT_PREFIX.length) : undefined;
}
