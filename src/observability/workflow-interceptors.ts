/**
 * Workflow interceptor module (bundled into the workflow sandbox, so: no I/O, no Node built-ins).
 * Every line a workflow writes with `log` carries the run date and current stage, read from the
 * search attributes the workflow keeps current. The SDK already adds workflowId, runId and type, and
 * drops these lines while a workflow replays.
 */
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { workflowInfo } from '@temporalio/workflow';
import { SA_RUN_DATE, SA_STAGE } from '../workflows/definitions';

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      getLogAttributes(attributes, next) {
        const sa = workflowInfo().typedSearchAttributes;
        return next({ runDate: sa.get(SA_RUN_DATE), stage: sa.get(SA_STAGE), ...attributes });
      },
    },
  ],
});
