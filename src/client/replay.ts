/** Replays a recorded history against the current workflow code. */
import type { History } from '@temporalio/common/lib/proto-utils';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { workflowsEntry } from '../worker';

export type ReplayVerdict = { ok: true; events: number } | { ok: false; events: number; nondeterministic: boolean; message: string };

export async function replayHistory(history: History, workflowId: string): Promise<ReplayVerdict> {
  const events = history.events?.length ?? 0;
  try {
    await Worker.runReplayHistory({ workflowsPath: workflowsEntry(), replayName: 'pipeline-replay' }, history, workflowId);
    return { ok: true, events };
  } catch (err) {
    const nondeterministic = err instanceof DeterminismViolationError || (err as Error).name === 'DeterminismViolationError';
    return { ok: false, events, nondeterministic, message: (err as Error).message };
  }
}
