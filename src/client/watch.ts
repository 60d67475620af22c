/**
 * Follows a running pipeline and prints each stage change as it happens. A Temporal server that goes
 * away meanwhile (restart, network) is waited for, up to a bound: one line on stderr when it is lost,
 * one when it is back, and the outcome reported is always the run's own.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import pc from 'picocolors';
import type { PipelineResult, PipelineStatus } from '../workflows/definitions';
import { statusQuery } from '../workflows/definitions';
import { isConnectionError } from './errors';
import { colorState, formatDuration } from './format';

export interface WatchOutcome {
  ok: boolean;
  status?: PipelineStatus;
  result?: PipelineResult;
  error?: string;
}

export interface WatchOptions {
  /** How long to keep trying to reach a lost server before giving up (default: 2 minutes). */
  reconnectForMs?: number;
  /** Where the "lost the server" and "reconnected" lines go (default: stderr, as `pipeline: ...`). */
  warn?: (line: string) => void;
}

export const DEFAULT_RECONNECT_FOR_MS = 120_000;
/** A status query answered by a worker; longer means no worker, or no server (then the probe says which). */
const QUERY_DEADLINE_MS = 5_000;
/** Describing the run needs only the server: no answer in this time counts as the server being away. */
const PROBE_DEADLINE_MS = 3_000;
/**
 * The result is long-polled in windows this long, then asked for again: so that no call of the watch
 * outlives it (the SDK retries a dropped call for about 20 s on its own, and cannot cancel that).
 */
const RESULT_WINDOW_MS = 30_000;
/** Longest wait between two attempts to reach a lost server. */
const MAX_RETRY_DELAY_MS = 5_000;

function describeChange(prev: PipelineStatus | undefined, next: PipelineStatus): string[] {
  const lines: string[] = [];
  for (const s of next.stages) {
    const before = prev?.stages.find((p) => p.stage === s.stage);
    if (before && before.state === s.state && before.attempts === s.attempts) continue;
    if (!before && s.state === 'pending') continue;
    if (s.state === 'pending') continue;
    const took = s.startedAt && s.endedAt ? ` in ${formatDuration(Date.parse(s.endedAt) - Date.parse(s.startedAt))}` : '';
    const attempt = s.attempts > 1 ? ` (attempt ${s.attempts})` : '';
    const msg = s.message && s.state !== 'running' ? `: ${s.message}` : '';
    lines.push(`  ${s.stage.padEnd(13)} ${colorState(s.state)}${attempt}${took}${msg}`);
  }
  if (next.state === 'awaiting_operator' && prev?.state !== 'awaiting_operator') {
    lines.push(
      pc.magenta(
        `  waiting for an operator until ${next.awaitingOperatorUntil}: pipeline rerun <stage> ${next.runDate} -r "<why>" | pipeline skip <stage> ${next.runDate} -r "<why>"`,
      ),
    );
  }
  return lines;
}

function failureMessage(err: unknown): string {
  return err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : (err as Error).message;
}

/** The innermost gRPC message of a connection error, on one line ("no answer within 3 s" for a deadline). */
function connectionReason(err: unknown, deadlineMs: number): string {
  let reason = (err as Error)?.message ?? String(err);
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') reason = code === 4 ? `no answer within ${formatDuration(deadlineMs)}` : e.message;
  }
  return reason.split('\n')[0]!;
}

/** Whether the server is there, as the watch last saw it; prints when that changes. */
class ServerLink {
  private lostAt: number | undefined;
  private lastReason = '';

  constructor(
    private readonly address: string,
    private readonly warn: (line: string) => void,
    private readonly reconnectForMs: number,
  ) {}

  get up(): boolean {
    return this.lostAt === undefined;
  }

  lost(reason: string): void {
    this.lastReason = reason;
    if (this.lostAt !== undefined) return;
    this.lostAt = Date.now();
    this.warn(`lost the Temporal server at ${this.address} (${reason}); reconnecting, for up to ${formatBound(this.reconnectForMs)}`);
  }

  back(): void {
    if (this.lostAt === undefined) return;
    this.warn(`reconnected to the Temporal server at ${this.address} after ${formatDuration(Date.now() - this.lostAt)}`);
    this.lostAt = undefined;
  }

  expired(): boolean {
    return this.lostAt !== undefined && Date.now() - this.lostAt >= this.reconnectForMs;
  }

  giveUp(workflowId: string): WatchOutcome {
    return {
      ok: false,
      error:
        `lost the Temporal server at ${this.address} and could not reconnect within ${formatBound(this.reconnectForMs)} (${this.lastReason}); ` +
        `the run's outcome is unknown and it may still be going: see \`pipeline status ${workflowId}\` once the server is back`,
    };
  }
}

/** "2 min" rather than "2 min 0 s" for a bound in whole minutes. */
function formatBound(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : formatDuration(ms);
}

type Followed = { done: WatchOutcome } | { lost: unknown };

const sleep = (ms: number): Promise<undefined> => new Promise((resolve) => setTimeout(() => resolve(undefined), ms));
const never = new Promise<never>(() => undefined);

export async function watchRun(
  handle: WorkflowHandle,
  print: (line: string) => void = console.log,
  intervalMs = 500,
  options: WatchOptions = {},
): Promise<WatchOutcome> {
  const connection = handle.client.connection;
  const address = (connection as { options?: { address?: string } }).options?.address ?? 'the configured address';
  const reconnectForMs = options.reconnectForMs ?? DEFAULT_RECONNECT_FOR_MS;
  const link = new ServerLink(address, options.warn ?? ((line) => console.error(`pipeline: ${line}`)), reconnectForMs);
  let last: PipelineStatus | undefined;

  // The result is the run's outcome; a dropped connection only means "ask again once the server is back".
  const follow = (): Promise<Followed> =>
    connection
      .withDeadline(Date.now() + RESULT_WINDOW_MS, () => handle.result())
      .then(
        (result: PipelineResult): Followed => ({ done: { ok: true, result } }),
        (err: unknown): Followed => (isConnectionError(err) ? { lost: err } : { done: { ok: false, error: failureMessage(err) } }),
      );

  const queryStatus = async (): Promise<boolean> => {
    try {
      const status = await connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(statusQuery));
      for (const line of describeChange(last, status)) print(line);
      last = status;
      return true;
    } catch {
      // No worker polling yet, a busy worker, or no server: the probe tells these apart.
      return false;
    }
  };

  /** Asks the server (no worker needed) about the run: updates the link, or ends the watch when the run is gone. */
  const probe = async (): Promise<WatchOutcome | undefined> => {
    try {
      await connection.withDeadline(Date.now() + PROBE_DEADLINE_MS, () => handle.describe());
      link.back();
      return undefined;
    } catch (err) {
      if (!isConnectionError(err)) return { ok: false, error: failureMessage(err) };
      link.lost(connectionReason(err, PROBE_DEADLINE_MS));
      return undefined;
    }
  };

  let following: Promise<Followed> | undefined = follow();
  let retryDelay = intervalMs;
  let outcome: WatchOutcome;
  for (;;) {
    const settled = await Promise.race([following ?? never, sleep(link.up ? intervalMs : retryDelay)]);
    if (settled && 'done' in settled) {
      // The server answered (with the run's end), so it is there.
      link.back();
      outcome = settled.done;
      break;
    }
    // The result's call was dropped: the probe below says whether the server is away or was only blinking.
    if (settled) following = undefined;
    const wasUp = link.up;
    const answered = wasUp && !settled ? await queryStatus() : false;
    if (!answered) {
      const gone = await probe();
      if (gone) {
        outcome = gone;
        break;
      }
      if (!wasUp && link.up) await queryStatus();
    }
    if (link.up) {
      retryDelay = intervalMs;
      following ??= follow();
    } else if (link.expired()) {
      // Its SDK retries end by its deadline: then nothing of this watch is left running.
      if (following) await following;
      outcome = link.giveUp(handle.workflowId);
      break;
    } else {
      retryDelay = Math.min(MAX_RETRY_DELAY_MS, Math.max(retryDelay, 250) * 1.6);
    }
  }
  if (link.up) await queryStatus();

  if (outcome.ok && outcome.result && last && last.state !== 'succeeded') {
    // The run's own result is the truth when no worker answered the last query: show its stages.
    const final: PipelineStatus = {
      ...last,
      state: 'succeeded',
      currentStage: undefined,
      awaitingOperatorUntil: undefined,
      stages: outcome.result.stages,
      quality: outcome.result.quality ?? last.quality,
    };
    for (const line of describeChange(last, final)) print(line);
    last = final;
  }
  // A status that says "succeeded" beside an outcome that does not would contradict it: left out.
  return { ...outcome, status: !outcome.ok && last?.state === 'succeeded' ? undefined : last };
}
