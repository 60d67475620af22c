/** Calendar arithmetic on ISO dates (YYYY-MM-DD), always in UTC so the host time zone never matters. */
import { isIsoDate } from '../shared/contract';

const DAY_MS = 86_400_000;

function toUtcMs(iso: string): number {
  if (!isIsoDate(iso)) throw new Error(`not an ISO date (YYYY-MM-DD): ${iso}`);
  return Date.parse(`${iso}T00:00:00Z`);
}

export function addDays(iso: string, days: number): string {
  return new Date(toUtcMs(iso) + days * DAY_MS).toISOString().slice(0, 10);
}

export function dateRange(start: string, days: number): string[] {
  return Array.from({ length: days }, (_, i) => addDays(start, i));
}

/** Whole days since 1970-01-01: a stable number to mix into per-date random seeds. */
export function dayNumber(iso: string): number {
  return Math.round(toUtcMs(iso) / DAY_MS);
}

/** 2025-10-27 -> 20251027, the prefix of that day's order ids. */
export function compactDate(iso: string): number {
  return Number(iso.replaceAll('-', ''));
}
