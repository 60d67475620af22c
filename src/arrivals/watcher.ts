/**
 * `pipeline watch`'s loop: wait for arrivals from a source (SQS notifications or the lake folder),
 * list the dates they name as the sensor would, and once a date is complete and quiet, start its run
 * or signal the one that exists. One line per date acted on.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { RawPartitionListing } from '../activities/types';
import type { ListDate } from './partitions';
import { ArrivalTracker } from './readiness';
import type { RunStarter, StartOutcome } from './run-starter';

export interface ArrivalSource {
  readonly kind: 'sqs' | 'folder';
  /** How long to wait for news when no date is waiting out its quiet period. */
  readonly idleWaitMs: number;
  describe(): string;
  /** What is there when the watcher starts (the folder); a queue keeps what arrived meanwhile and has none. */
  initial?(): Promise<{ runDate: string; listings: RawPartitionListing[] }[]>;
  /** Waits up to `waitMs` (less when aborted) and returns the dates something arrived for. */
  next(waitMs: number, signal: AbortSignal): Promise<string[]>;
  /** The date's current files have been acted on: what the source holds for it can go. */
  release(runDate: string): Promise<void>;
  /** Keeps what the source holds for dates still waiting. */
  hold?(): Promise<void>;
}

export interface WatchOptions {
  source: ArrivalSource;
  list: ListDate;
  starter: RunStarter;
  quietMs: number;
  /** Also act on dates already complete when the watcher starts (the folder source); default: leave them be. */
  includeExisting?: boolean;
  say: (line: string) => void;
  signal: AbortSignal;
  now?: () => number;
  /** Failed rounds in a row (the server or the bucket away) before the watcher gives up. */
  maxFailedRounds?: number;
  /** Tells a failure to give up on at once (configuration, permissions) from one to wait out. */
  isFatal?: (err: unknown) => boolean;
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export function formatSeconds(ms: number): string {
  return ms >= 10_000 || ms % 1000 === 0 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** The line for a date acted on; `quietMs` is the quiet period that passed (the setting, not the measured wait). */
export function outcomeLine(runDate: string, quietMs: number, outcome: StartOutcome): string {
  const why = `${runDate}: all three partitions present, quiet for ${formatSeconds(quietMs)}`;
  switch (outcome.kind) {
    case 'started':
      return `${why}; started ${outcome.workflowId}`;
    case 'signalled':
      return `${why}; ${outcome.workflowId} already running, signalled`;
    case 'succeeded-before':
      return `${why}; ${outcome.workflowId} already succeeded, nothing started (to redo the day: pipeline rerun catalog ${runDate} -r "<why>")`;
  }
}

export async function watchArrivals(o: WatchOptions): Promise<void> {
  const now = o.now ?? Date.now;
  const tracker = new ArrivalTracker(o.quietMs);
  for (const { runDate, listings } of (await o.source.initial?.()) ?? []) {
    if (o.includeExisting) tracker.touch(runDate, now());
    else tracker.baseline(runDate, listings, now());
  }
  let failedRounds = 0;
  while (!o.signal.aborted) {
    try {
      const due = tracker.nextDueInMs(now());
      const touched = await o.source.next(due === undefined ? o.source.idleWaitMs : Math.max(due, 200), o.signal);
      if (o.signal.aborted) break;
      for (const runDate of touched) tracker.touch(runDate, now());
      for (const runDate of tracker.pending()) {
        if (o.signal.aborted) break;
        let listings: RawPartitionListing[];
        try {
          listings = await o.list(runDate);
        } catch (err) {
          // A partition the sensor would refuse too (a link out of the lake): this date only, until it changes.
          if (!(err instanceof ApplicationFailure && err.type === 'InvalidData')) throw err;
          o.say(`${runDate}: ${err.message}; left alone until it changes`);
          tracker.forget(runDate);
          continue;
        }
        const ready = tracker.observe(runDate, listings, now());
        if (ready.state === 'handled') await o.source.release(runDate);
        if (ready.state !== 'ready') continue;
        const outcome = await o.starter.startOrSignal(runDate, {
          keys: ready.keys,
          source: o.source.kind,
          at: new Date(now()).toISOString(),
        });
        o.say(outcomeLine(runDate, o.quietMs, outcome));
        tracker.handled(runDate, ready.signature);
        await o.source.release(runDate);
      }
      await o.source.hold?.();
      failedRounds = 0;
    } catch (err) {
      if (o.signal.aborted) break;
      failedRounds += 1;
      if (o.isFatal?.(err) || failedRounds >= (o.maxFailedRounds ?? 10)) throw err;
      o.say(`watch: ${(err as Error).message.replace(/\s*\n\s*/g, ' ')}; trying again in 5 s`);
      await abortableSleep(5_000, o.signal);
    }
  }
}
