/**
 * Background jobs (catalog, query, ETL run, warehouse statement) with their state in one JSON file
 * each, so the workflow can poll them like Glue job runs and a worker restart cannot leave one
 * RUNNING forever.
 *
 * A job's id is derived from the RunRef that started it, so a retried start activity finds the job
 * its first attempt started instead of starting a second one. The owning worker rewrites the file's
 * heartbeat while the job runs; a RUNNING job whose owner is gone (closed in this process, a dead pid,
 * or a heartbeat older than `staleAfterMs`) reads FAILED with `retryable: true`.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { JobState, RunRef } from '../types';
import { badConfig, missingResource } from '../errors';

export type JobKind = 'crawl' | 'query' | 'etl' | 'statement';

export interface JobOwner {
  pid: number;
  host: string;
  instance: string;
}

export interface JobRecord<R = unknown> {
  id: string;
  kind: JobKind;
  /** What a job of its kind runs, when the kind has more than one (a statement's `load` or `verify`). */
  operation?: string;
  label: string;
  run: RunRef;
  state: JobState;
  message?: string;
  retryable?: boolean;
  /** The failure class of a FAILED job (InvalidData, BadConfig, ...), when known. */
  failureType?: string;
  metrics: Record<string, number>;
  result?: R;
  owner: JobOwner;
  createdAt: string;
  heartbeatAt: string;
  finishedAt?: string;
}

export interface JobContext {
  readonly id: string;
  /** Records progress (0..1) and extra metrics; written to the job file with the next heartbeat. */
  progress(fraction: number, metrics?: Record<string, number>): void;
  /** Throws when the job was asked to stop; long jobs call it between statements. */
  checkCancelled(): void;
  /** Marks the job as now running its statements (until then it waits its turn). */
  markActive(): void;
}

export interface JobOutcome<R> {
  metrics?: Record<string, number>;
  result?: R;
  message?: string;
}

interface Live {
  cancelled: boolean;
  active: boolean;
  progress: number;
  metrics: Record<string, number>;
  done: Promise<void>;
  /** What the job file last said, so an unchanged job (one waiting its turn) is rewritten rarely. */
  written: { at: number; progress: number; metrics: string };
}

/** Instances alive in this process: a job owned by one that is gone was lost, whatever its heartbeat. */
const liveInstances = new Set<string>();

class JobCancelled extends Error {
  constructor() {
    super('stopped on request');
  }
}

export interface JobStoreOptions {
  dir: string;
  /** How long a foreign owner's heartbeat may be silent before its job counts as lost. */
  staleAfterMs: number;
  heartbeatMs: number;
  /** Stops the statement of the job that is running now (a cancelled job's SQL is interrupted). */
  interrupt: () => void;
  /** Finished jobs' files older than this are deleted when a store opens (default 30 days). */
  keepFinishedMs?: number;
  /**
   * Called synchronously each time a job reports progress (0..1), between its statements: for
   * progress logging or metrics. It runs on the job's path, so it must be quick and must not throw.
   */
  onProgress?: JobProgressListener;
}

/** Receives a job's progress reports (see JobStoreOptions.onProgress). */
export type JobProgressListener = (job: { id: string; kind: JobKind; operation?: string }, progress: number) => void;

/** What a new job is: the fields of its record that its start decides. */
export interface JobSpec {
  id: string;
  kind: JobKind;
  operation?: string;
  run: RunRef;
  label: string;
}

export const DEFAULT_KEEP_FINISHED_MS = 30 * 24 * 3600_000;

export class JobStore {
  readonly instance = randomUUID();
  private readonly live = new Map<string, Live>();
  private readonly unwritten = new Map<string, JobRecord>();
  private readonly owner: JobOwner;

  constructor(private readonly options: JobStoreOptions) {
    try {
      fs.mkdirSync(options.dir, { recursive: true });
    } catch (err) {
      throw badConfig(`PIPELINE_WAREHOUSE_PATH: cannot create the job folder ${options.dir}: ${(err as Error).message}`);
    }
    this.owner = { pid: process.pid, host: os.hostname(), instance: this.instance };
    liveInstances.add(this.instance);
    this.pruneFinished(options.keepFinishedMs ?? DEFAULT_KEEP_FINISHED_MS);
  }

  /**
   * Deletes the files of jobs that finished long ago, so a daily pipeline does not grow its job
   * folder forever. Long after any workflow could still read them (an operator waits a day at most);
   * a RUNNING file is never touched, and the lake and warehouse are not affected.
   */
  pruneFinished(olderThanMs: number): number {
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    for (const name of fs.readdirSync(this.options.dir)) {
      if (!name.endsWith('.json')) continue;
      const file = path.join(this.options.dir, name);
      try {
        if (fs.statSync(file).mtimeMs >= cutoff) continue;
        const record = JSON.parse(fs.readFileSync(file, 'utf8')) as JobRecord;
        if (record.state === 'RUNNING') continue;
        fs.rmSync(file);
        removed++;
      } catch {
        // unreadable or gone meanwhile: leave it to the next pass
      }
    }
    return removed;
  }

  /** The same RunRef (and operation) always names the same job. */
  static idFor(kind: JobKind, run: RunRef, operation = ''): string {
    const digest = createHash('sha256')
      .update(
        JSON.stringify(
          run.executionId
            ? [run.workflowId, run.executionId, run.stage, run.stageAttempt, operation]
            : [run.workflowId, run.stage, run.stageAttempt, operation],
        ),
      )
      .digest('hex')
      .slice(0, 12);
    return `${kind}-${run.runDate}-${operation ? `${operation}-` : ''}${digest}`;
  }

  private file(id: string): string {
    if (!/^[a-z]+-[0-9-]+-[a-z0-9-]+$/i.test(id))
      throw missingResource(`local job id ${JSON.stringify(id)} is not one this backend issues`);
    return path.join(this.options.dir, `${id}.json`);
  }

  /** Writes a job file whole or not at all; a full disk or a permission problem names the file. */
  private write(record: JobRecord): void {
    const target = this.file(record.id);
    const tmp = `${target}.${process.pid}.${randomUUID()}.tmp`;
    try {
      fs.writeFileSync(tmp, JSON.stringify(record, null, 2));
      fs.renameSync(tmp, target);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw new Error(`cannot write the job file ${target}: ${(err as Error).message}`);
    }
  }

  private read(id: string): JobRecord | undefined {
    // A finished job whose file could not be written (full disk) is still known to this worker.
    const unwritten = this.unwritten.get(id);
    if (unwritten) return unwritten;
    try {
      return JSON.parse(fs.readFileSync(this.file(id), 'utf8')) as JobRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** The job's state, with a job lost to a stopped worker turned into FAILED (retryable). */
  get<R>(id: string): JobRecord<R> | undefined {
    const record = this.read(id);
    if (!record) return undefined;
    const live = this.live.get(id);
    if (record.state === 'RUNNING' && live) {
      return { ...record, metrics: { ...record.metrics, ...live.metrics, progress: live.progress } } as JobRecord<R>;
    }
    if (record.state === 'RUNNING') {
      const lost = this.lostReason(record);
      if (lost) {
        const failed: JobRecord = {
          ...record,
          state: 'FAILED',
          retryable: true,
          message: `${record.label} was lost: ${lost}; start it again`,
          finishedAt: new Date().toISOString(),
        };
        this.write(failed);
        return failed as JobRecord<R>;
      }
    }
    return record as JobRecord<R>;
  }

  require<R>(id: string, what: string): JobRecord<R> {
    const record = this.get<R>(id);
    if (!record) throw missingResource(`${what} ${id} does not exist (no job file in ${this.options.dir})`);
    return record;
  }

  private lostReason(record: JobRecord): string | undefined {
    const { owner } = record;
    const beat = `last heartbeat ${record.heartbeatAt}`;
    if (owner.host === this.owner.host && owner.pid === process.pid && !liveInstances.has(owner.instance)) {
      return `its worker instance in this process was closed (${beat})`;
    }
    if (owner.host === this.owner.host && owner.pid !== process.pid && !pidAlive(owner.pid)) {
      return `its worker process ${owner.pid} is no longer running (${beat})`;
    }
    const silentMs = Date.now() - Date.parse(record.heartbeatAt);
    if (!(silentMs <= this.options.staleAfterMs)) {
      return `its worker (pid ${owner.pid} on ${owner.host}) stopped heartbeating (${beat})`;
    }
    return undefined;
  }

  /**
   * Starts `work` as job `id` unless that job already exists, in which case its record is returned
   * and nothing new starts.
   */
  start<R>(spec: JobSpec, work: (ctx: JobContext) => Promise<JobOutcome<R>>): { record: JobRecord<R>; existed: boolean } {
    const { id, kind, operation, run, label } = spec;
    const existing = this.get<R>(id);
    if (existing) return { record: existing, existed: true };
    const now = new Date().toISOString();
    const record: JobRecord<R> = {
      id,
      kind,
      ...(operation ? { operation } : {}),
      label,
      run,
      state: 'RUNNING',
      metrics: { progress: 0 },
      owner: this.owner,
      createdAt: now,
      heartbeatAt: now,
    };
    try {
      fs.writeFileSync(this.file(id), JSON.stringify(record, null, 2), { flag: 'wx' });
    } catch (err) {
      // Another call created it a moment ago: reattach to that one.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { record: this.require<R>(id, label), existed: true };
      throw err;
    }
    const live: Live = {
      cancelled: false,
      active: false,
      progress: 0,
      metrics: {},
      done: Promise.resolve(),
      written: { at: Date.now(), progress: 0, metrics: '{}' },
    };
    this.live.set(id, live);
    const beat = setInterval(() => this.beat(id, live), this.options.heartbeatMs);
    beat.unref();
    const ctx: JobContext = {
      id,
      progress: (fraction, metrics) => {
        live.progress = Math.max(0, Math.min(1, fraction));
        if (metrics) Object.assign(live.metrics, metrics);
        this.options.onProgress?.({ id, kind, ...(operation ? { operation } : {}) }, live.progress);
      },
      checkCancelled: () => {
        if (live.cancelled) throw new JobCancelled();
      },
      markActive: () => {
        live.active = true;
        if (live.cancelled) throw new JobCancelled();
      },
    };
    live.done = (async () => {
      let final: JobRecord<R>;
      try {
        const out = await work(ctx);
        if (live.cancelled) throw new JobCancelled();
        final = {
          ...record,
          state: 'SUCCEEDED',
          message: out.message,
          metrics: { ...live.metrics, ...out.metrics, progress: 1 },
          result: out.result,
        };
      } catch (err) {
        final = live.cancelled
          ? {
              ...record,
              state: 'CANCELLED',
              message: `${label} was stopped on request`,
              metrics: { ...live.metrics, progress: live.progress },
            }
          : {
              ...record,
              state: 'FAILED',
              message: messageOf(err),
              failureType: failureTypeOf(err),
              metrics: { ...live.metrics, progress: live.progress },
            };
      } finally {
        clearInterval(beat);
      }
      const at = new Date().toISOString();
      try {
        this.write({ ...final, heartbeatAt: at, finishedAt: at });
      } catch (err) {
        // The worker lives on: the stage reads this failure, naming the file, instead of a dead process.
        this.unwritten.set(id, {
          ...final,
          state: 'FAILED',
          retryable: true,
          message: `${label}: ${messageOf(err)}`,
          heartbeatAt: at,
          finishedAt: at,
        });
      }
      this.live.delete(id);
    })();
    return { record, existed: false };
  }

  private beat(id: string, live: Live): void {
    // A backfill queues hundreds of jobs behind the write turn: rewriting each one's file every beat
    // cost more than the work. Unchanged, a file is refreshed well inside the staleness window.
    const metrics = JSON.stringify(live.metrics);
    const unchanged = live.progress === live.written.progress && metrics === live.written.metrics;
    if (unchanged && Date.now() - live.written.at < this.options.staleAfterMs / 4) return;
    live.written = { at: Date.now(), progress: live.progress, metrics };
    try {
      const record = this.read(id);
      if (!record || record.state !== 'RUNNING') return;
      this.write({
        ...record,
        heartbeatAt: new Date().toISOString(),
        metrics: { ...record.metrics, ...live.metrics, progress: live.progress },
      });
    } catch {
      // A heartbeat that cannot be written (full disk) is tried again next beat; the job's end reports it.
    }
  }

  /** Asks a running job to stop; a job this process does not run is only marked if it was lost. */
  cancel(id: string): JobRecord | undefined {
    const live = this.live.get(id);
    if (live) {
      live.cancelled = true;
      if (live.active) this.options.interrupt();
      return this.get(id);
    }
    return this.get(id);
  }

  /**
   * Resolves once the job, if this process runs it, has settled, or after `withinMs`, or on `signal`:
   * a state read that waits a moment sees quick work end the moment it does, and a read of work
   * queued behind a backfill's other days costs one read in several seconds, not one a second.
   */
  async settled(id: string, withinMs: number, signal?: AbortSignal): Promise<void> {
    const live = this.live.get(id);
    if (!live || withinMs <= 0 || signal?.aborted) return;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      await Promise.race([
        live.done,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, withinMs);
          onAbort = resolve;
          signal?.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Resolves when every job this instance started has settled. */
  async settle(): Promise<void> {
    await Promise.all([...this.live.values()].map((l) => l.done));
  }

  close(): void {
    liveInstances.delete(this.instance);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

function failureTypeOf(err: unknown): string | undefined {
  return err instanceof ApplicationFailure ? (err.type ?? undefined) : undefined;
}
