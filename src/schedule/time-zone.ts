/**
 * Calendar dates in an IANA time zone, with nothing but Intl: the date a scheduled time falls on, and
 * the instant a local day starts (for backfill ranges).
 */
import { ScheduleSettingError } from './errors';

const DAY_MS = 24 * 60 * 60 * 1000;

export function assertTimeZone(timeZone: string, setting = '--time-zone'): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone }).format(0);
  } catch {
    throw new ScheduleSettingError(
      setting,
      `${JSON.stringify(timeZone)} is not an IANA time zone (e.g. UTC, Europe/Paris, America/New_York)`,
    );
  }
  return timeZone;
}

/** YYYY-MM-DD of an instant in a time zone. */
export function dateInZone(at: Date, timeZone: string): string {
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** The zone's offset from UTC at an instant, in ms (positive east of Greenwich). */
function offsetAt(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(at / 1000) * 1000;
}

function utcMidnight(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return Date.UTC(y!, m! - 1, d!);
}

/** The instant local midnight starts `date` in `timeZone`. */
export function startOfDay(date: string, timeZone: string): Date {
  const wall = utcMidnight(date);
  // Two passes settle the offset when the day starts on the other side of a DST change.
  const first = wall - offsetAt(wall, timeZone);
  return new Date(wall - offsetAt(first, timeZone));
}

export function addDays(date: string, days: number): string {
  return new Date(utcMidnight(date) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Every date from `from` to `to`, both included. */
export function datesBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}
