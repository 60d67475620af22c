/**
 * Starts the run of a date whose raw files have all arrived, or tells a run of it that they have.
 *
 * One run per date: before starting, the watcher asks visibility (PipelineRunDate) for runs of the
 * date under any workflow id (a scheduled run's id is the schedule's id and time, not the date's).
 * A running one is signalled; a succeeded one is left alone (redoing a day is `pipeline rerun`). Only
 * when neither exists is the run started, with signal-with-start on the date's own workflow id
 * (`daily-pipeline-D`, shared with `pipeline run`): a repeated notification then finds the run and
 * signals it (conflict policy USE_EXISTING), and a start after a run that succeeded under that id is
 * refused by the server (reuse policy ALLOW_DUPLICATE_FAILED_ONLY), even when visibility lags.
 *
 * The race left: the schedule starting its run of the date between the visibility read and the
 * start makes two runs of the date; so does a scheduled run no worker has picked up yet, since
 * PipelineRunDate is recorded by the run's first workflow task (the schedule cannot know the date
 * ahead), and a schedule firing after the event run has succeeded. Both runs load the same batch
 * (the merge replaces a batch), so the cost is the work done twice, not wrong numbers.
 */
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { PipelineInput, RawDataArrival } from '../workflows/definitions';
import {
  pipelineWorkflowId,
  rawDataArrivedSignal,
  SA_RUN_DATE,
  SA_STAGE,
  SA_STATUS,
  SA_TRIGGER,
  WORKFLOW_TYPE,
} from '../workflows/definitions';

export type StartOutcome =
  | { kind: 'started'; workflowId: string; runId: string }
  | { kind: 'signalled'; workflowId: string; runId: string }
  | { kind: 'succeeded-before'; workflowId: string };

export interface RunStarter {
  startOrSignal(runDate: string, arrival: RawDataArrival): Promise<StartOutcome>;
}

interface FoundRun {
  workflowId: string;
  runId: string;
  status: string;
  startTime: Date;
}

async function runsOfDate(client: Client, runDate: string): Promise<FoundRun[]> {
  const runs: FoundRun[] = [];
  const query = `WorkflowType = "${WORKFLOW_TYPE}" AND PipelineRunDate = "${runDate}"`;
  for await (const wf of client.workflow.list({ query })) {
    runs.push({ workflowId: wf.workflowId, runId: wf.runId, status: wf.status.name, startTime: wf.startTime });
  }
  return runs.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
}

/** The newest run under the workflow id, straight from the server (visibility may lag behind it). */
async function currentRunId(client: Client, workflowId: string): Promise<{ runId: string; running: boolean } | undefined> {
  try {
    const desc = await client.workflow.getHandle(workflowId).describe();
    return { runId: desc.runId, running: desc.status.name === 'RUNNING' };
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return undefined;
    throw err;
  }
}

export function temporalRunStarter(client: Client, taskQueue: string): RunStarter {
  return {
    async startOrSignal(runDate, arrival) {
      const runs = await runsOfDate(client, runDate);
      const running = runs.find((r) => r.status === 'RUNNING');
      if (running) {
        try {
          await client.workflow.getHandle(running.workflowId, running.runId).signal(rawDataArrivedSignal, arrival);
          return { kind: 'signalled', workflowId: running.workflowId, runId: running.runId };
        } catch (err) {
          // It ended since visibility listed it: decide again on what the server says now.
          if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
          const now = await client.workflow.getHandle(running.workflowId, running.runId).describe();
          if (now.status.name === 'COMPLETED') return { kind: 'succeeded-before', workflowId: running.workflowId };
          runs.splice(runs.indexOf(running), 1);
        }
      }
      const succeeded = runs.find((r) => r.status === 'COMPLETED');
      if (succeeded) return { kind: 'succeeded-before', workflowId: succeeded.workflowId };

      const workflowId = pipelineWorkflowId(runDate);
      const before = await currentRunId(client, workflowId);
      const input: PipelineInput = { runDate, trigger: 'event' };
      try {
        const handle = await client.workflow.signalWithStart(WORKFLOW_TYPE, {
          taskQueue,
          workflowId,
          args: [input],
          signal: rawDataArrivedSignal,
          signalArgs: [arrival],
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
          workflowIdConflictPolicy: 'USE_EXISTING',
          staticSummary: `Daily e-commerce pipeline for ${runDate} (event: raw files arrived)`,
          typedSearchAttributes: [
            { key: SA_RUN_DATE, value: runDate },
            { key: SA_TRIGGER, value: 'event' },
            { key: SA_STAGE, value: 'awaitRawData' },
            { key: SA_STATUS, value: 'running' },
          ],
        });
        // USE_EXISTING signals a run that visibility did not show yet instead of starting one.
        const signalled = before?.running === true && before.runId === handle.signaledRunId;
        return { kind: signalled ? 'signalled' : 'started', workflowId, runId: handle.signaledRunId };
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return { kind: 'succeeded-before', workflowId };
        throw err;
      }
    },
  };
}
