/** Finds a pipeline run by logical date or workflow id, and starts one. */
import type { Client, WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { isIsoDate } from '../shared/contract';
import type { PipelineInput, PipelineStatus } from '../workflows/definitions';
import { pipelineWorkflowId, SA_RUN_DATE, SA_STAGE, SA_STATUS, SA_TRIGGER, statusQuery, WORKFLOW_TYPE } from '../workflows/definitions';
import { UserError } from './errors';

/** Looks like a date the operator meant (2025-13-45, 2025-1-7), though it is not a real one. */
function looksLikeDate(target: string): boolean {
  return /^\d{4}-\d{1,2}-\d{1,2}$/.test(target);
}

export async function findRun(client: Client, target: string): Promise<WorkflowHandle> {
  const namespace = client.options.namespace;
  if (looksLikeDate(target) && !isIsoDate(target)) {
    throw new UserError(
      `${JSON.stringify(target)} is not a date: give a run date as YYYY-MM-DD (a real calendar day, e.g. 2025-10-27) or a workflow id`,
    );
  }
  if (!isIsoDate(target)) {
    const handle = client.workflow.getHandle(target);
    try {
      await handle.describe();
    } catch (err) {
      if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
      throw new UserError(
        `no run ${JSON.stringify(target)}: it is neither a run date (YYYY-MM-DD, e.g. 2025-10-27) nor the id of a workflow in namespace ${namespace} (e.g. ${pipelineWorkflowId('2025-10-27')})`,
      );
    }
    return handle;
  }
  const found: { workflowId: string; runId: string; startTime: Date }[] = [];
  for await (const wf of client.workflow.list({ query: `PipelineRunDate = "${target}"` })) {
    // Only parents carry the run date; the sensor child runs are not pipeline runs.
    if (wf.type !== WORKFLOW_TYPE) continue;
    found.push({ workflowId: wf.workflowId, runId: wf.runId, startTime: wf.startTime });
  }
  if (found.length === 0) {
    throw new UserError(
      `no pipeline run for ${target} in namespace ${namespace} (searched PipelineRunDate = "${target}"); start one with \`pipeline run --date ${target}\``,
    );
  }
  found.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
  return client.workflow.getHandle(found[0]!.workflowId, found[0]!.runId);
}

/**
 * Refuses, in one line saying what to do instead, to signal or cancel a run that has already ended:
 * Temporal would only answer "workflow execution already completed".
 */
export async function requireOpenRun(handle: WorkflowHandle, wanted: string): Promise<void> {
  const desc = await handle.describe();
  if (desc.status.name === 'RUNNING') return;
  const runDate = desc.typedSearchAttributes.get(SA_RUN_DATE) ?? '<date>';
  throw new UserError(
    `run ${handle.workflowId} is already closed (${desc.status.name.toLowerCase()}), so it cannot ${wanted}; ` +
      `see \`pipeline status ${handle.workflowId}\`, or start a new run with \`pipeline run --date ${runDate}\` (\`--from <stage>\` to begin at a stage)`,
  );
}

/** The run date and end state of a run that has ended, or undefined while it is open. */
export async function closedRunDate(handle: WorkflowHandle): Promise<{ runDate: string; state: string } | undefined> {
  const desc = await handle.describe();
  if (desc.status.name === 'RUNNING') return undefined;
  const runDate = desc.typedSearchAttributes.get(SA_RUN_DATE);
  if (!runDate)
    throw new UserError(
      `run ${handle.workflowId} has no PipelineRunDate; start a new run with \`pipeline run --date YYYY-MM-DD --from <stage>\``,
    );
  return { runDate, state: desc.status.name.toLowerCase() };
}

export async function startRun(
  client: Client,
  taskQueue: string,
  input: PipelineInput & { runDate: string },
): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const workflowId = pipelineWorkflowId(input.runDate);
  try {
    return await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue,
      workflowId,
      args: [input],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
      staticSummary: `Daily e-commerce pipeline for ${input.runDate} (${input.trigger ?? 'manual'})`,
      typedSearchAttributes: [
        { key: SA_RUN_DATE, value: input.runDate },
        { key: SA_TRIGGER, value: input.trigger ?? 'manual' },
        { key: SA_STAGE, value: input.startFrom ?? 'awaitRawData' },
        { key: SA_STATUS, value: 'running' },
      ],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new UserError(
        `a run for ${input.runDate} is already running (workflow id ${workflowId}); see \`pipeline status ${input.runDate}\``,
      );
    }
    throw err;
  }
}

/**
 * The run's status from the `status` query, or, when no worker can answer (for example a run that
 * finished while every worker is stopped), from the summary the run keeps in its memo.
 */
export async function readStatus(
  client: Client,
  handle: WorkflowHandle,
): Promise<{ status?: PipelineStatus; closed: string; memo?: unknown }> {
  const desc = await handle.describe();
  const closed = desc.status.name;
  try {
    // A deadline on the call itself: a query left pending would keep the command's process alive.
    const status = await client.withDeadline(Date.now() + 5_000, () => handle.query(statusQuery));
    return { status, closed };
  } catch {
    return { closed, memo: desc.memo?.status };
  }
}
