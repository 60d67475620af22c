/** Follows a running pipeline and prints each stage change as it happens. */
import type { WorkflowHandle } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import pc from 'picocolors';
import type { PipelineResult, PipelineStatus } from '../workflows/definitions';
import { statusQuery } from '../workflows/definitions';
import { colorState, formatDuration } from './format';

export interface WatchOutcome {
  ok: boolean;
  status?: PipelineStatus;
  result?: PipelineResult;
  error?: string;
}

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
    lines.push(pc.magenta(`  waiting for an operator until ${next.awaitingOperatorUntil}: pipeline rerun <stage> ${next.runDate} | pipeline skip <stage> ${next.runDate}`));
  }
  return lines;
}

export async function watchRun(handle: WorkflowHandle, print: (line: string) => void = console.log, intervalMs = 500): Promise<WatchOutcome> {
  let last: PipelineStatus | undefined;
  let done = false;
  const resultPromise = handle.result().then(
    (result: PipelineResult) => ({ ok: true, result }) as WatchOutcome,
    (err: unknown) => ({ ok: false, error: err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : (err as Error).message }) as WatchOutcome,
  );
  void resultPromise.finally(() => {
    done = true;
  });
  const poll = async () => {
    try {
      const status = await handle.query(statusQuery);
      for (const line of describeChange(last, status)) print(line);
      last = status;
    } catch {
      // A query can fail while no worker is polling yet; the next tick tries again.
    }
  };
  while (!done) {
    await poll();
    await Promise.race([resultPromise, new Promise((r) => setTimeout(r, intervalMs))]);
  }
  await poll();
  const outcome = await resultPromise;
  return { ...outcome, status: last };
}
