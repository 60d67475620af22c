/**
 * When a date is ready to run: each of its three raw partitions holds at least one data file (the
 * sensor's own listing rules: the same listing functions, so a file the sensor would not read does
 * not count), and nothing has changed in them for the quiet period. The quiet period is what keeps
 * a half-written upload from starting a run: a file still growing changes its size or time, a
 * temporary name that is renamed into place changes the key list, and either starts the wait again.
 */
import type { RawPartitionListing } from '../activities/types';
import type { Entity } from '../shared/contract';
import { ENTITIES } from '../shared/contract';

export type Readiness =
  | { state: 'incomplete'; missing: Entity[] }
  | { state: 'settling'; quietForMs: number; remainingMs: number }
  | { state: 'ready'; quietForMs: number; keys: string[]; signature: string }
  /** Ready, but already acted on with exactly these files. */
  | { state: 'handled' };

/** Entities whose partition holds no data file yet. */
export function missingEntities(listings: readonly RawPartitionListing[]): Entity[] {
  return ENTITIES.filter((e) => !listings.some((l) => l.entity === e && l.objects.length > 0));
}

/**
 * What the partitions hold, as one string: data files with size and time, and the names of what the
 * sensor ignores (a `.part` or `.tmp` file beside them is an upload under way).
 */
export function listingSignature(listings: readonly RawPartitionListing[]): string {
  const parts: string[] = [];
  for (const l of [...listings].sort((a, b) => (a.entity < b.entity ? -1 : 1))) {
    for (const o of l.objects) parts.push(`${o.key}\t${o.size}\t${o.lastModified ?? ''}`);
    for (const key of l.ignored) parts.push(`${key}\tignored`);
  }
  return parts.join('\n');
}

interface DateState {
  signature?: string;
  /** Watcher time of the last change seen: a notification, or a listing that differs from the one before. */
  changedAt: number;
  handledSignature?: string;
  /** Touched since the last listing: list it again even if it was acted on. */
  touched: boolean;
  /** What the last listing showed: only a settling date is listed again without news of it. */
  last?: Readiness['state'];
}

export class ArrivalTracker {
  private readonly dates = new Map<string, DateState>();

  constructor(readonly quietMs: number) {}

  /** Something arrived for the date (a notification, a changed folder): the quiet period starts again. */
  touch(runDate: string, at: number): void {
    const s = this.dates.get(runDate);
    if (s) Object.assign(s, { changedAt: at, touched: true });
    else this.dates.set(runDate, { changedAt: at, touched: true });
  }

  /** Takes what a listing found as already acted on (the lake as it was when the watcher started). */
  baseline(runDate: string, listings: readonly RawPartitionListing[], at: number): void {
    const signature = listingSignature(listings);
    this.dates.set(runDate, { signature, changedAt: at, handledSignature: signature, touched: false });
  }

  observe(runDate: string, listings: readonly RawPartitionListing[], at: number): Readiness {
    const s = this.dates.get(runDate) ?? { changedAt: at, touched: false };
    this.dates.set(runDate, s);
    s.touched = false;
    const signature = listingSignature(listings);
    if (signature !== s.signature) {
      s.signature = signature;
      s.changedAt = at;
    }
    const readiness = this.judge(s, listings, signature, at);
    s.last = readiness.state;
    return readiness;
  }

  private judge(s: DateState, listings: readonly RawPartitionListing[], signature: string, at: number): Readiness {
    if (s.handledSignature === signature) return { state: 'handled' };
    const missing = missingEntities(listings);
    if (missing.length > 0) return { state: 'incomplete', missing };
    const quietForMs = at - s.changedAt;
    if (quietForMs < this.quietMs) return { state: 'settling', quietForMs, remainingMs: this.quietMs - quietForMs };
    return { state: 'ready', quietForMs, keys: listings.flatMap((l) => l.objects.map((o) => o.key)), signature };
  }

  /** Drops what is known of the date; it is listed again on the next news of it. */
  forget(runDate: string): void {
    this.dates.delete(runDate);
  }

  /** The date was acted on with these files: the same files again (a repeated notification) do nothing. */
  handled(runDate: string, signature: string): void {
    const s = this.dates.get(runDate);
    if (s) Object.assign(s, { handledSignature: signature, last: 'handled' });
  }

  /**
   * An incomplete date changes only with news of it (a notification, a changed folder), so it is not
   * listed again until then; a settling one is, when its quiet period ends; a ready one that could
   * not be acted on (the server away) at once.
   */
  private open(s: DateState): boolean {
    return s.touched || s.last === 'settling' || s.last === 'ready';
  }

  /** Dates to list again: touched, settling, or ready and not yet acted on. */
  pending(): string[] {
    return [...this.dates.entries()].filter(([, s]) => this.open(s)).map(([d]) => d);
  }

  /** How long until the next pending date should be listed, in ms from `at` (undefined when none is pending). */
  nextDueInMs(at: number): number | undefined {
    let due: number | undefined;
    for (const s of this.dates.values()) {
      if (!this.open(s)) continue;
      const left = Math.max(0, s.changedAt + this.quietMs - at);
      due = due === undefined ? left : Math.min(due, left);
    }
    return due;
  }
}
