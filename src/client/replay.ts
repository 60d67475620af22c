/** Replays a recorded history against the current workflow code. */
import type { History } from '@temporalio/common/lib/proto-utils';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { workflowsEntry } from '../worker';

/**
 * The SDK wraps Core's reason ("Timer machine does not handle this event: HistoryEvent(id: 5, ...)")
 * in a debug dump of the failure; the reason is what an operator needs.
 */
export function nondeterminismReason(message: string): string {
  const inner = /message: "((?:[^"\\]|\\.)*)"/.exec(message)?.[1];
  return (inner ?? message).replace(/\\"/g, '"').replace(/^\[TMPRL\d+\]\s*/, '');
}

export type ReplayVerdict = { ok: true; events: number } | { ok: false; events: number; nondeterministic: boolean; message: string };

export async function replayHistory(history: History, workflowId: string): Promise<ReplayVerdict> {
  const events = history.events?.length ?? 0;
  try {
    await Worker.runReplayHistory({ workflowsPath: workflowsEntry(), replayName: 'pipeline-replay' }, history, workflowId);
    return { ok: true, events };
  } catch (err) {
    const nondeterministic = err instanceof DeterminismViolationError || (err as Error).name === 'DeterminismViolationError';
    const message = (err as Error).message;
    return { ok: false, events, nondeterministic, message: nondeterministic ? nondeterminismReason(message) : message };
  }
}
