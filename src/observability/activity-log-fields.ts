/**
 * Adds the run's date, stage and stage attempt to every log line an activity writes through
 * `Context.current().log`. The SDK already adds workflowId, workflowType, activityType and attempt
 * from `Context.current().info`; the run date and stage come from the activity's input (`run`, a
 * RunRef) or, for notifications, from the notice. The SDK's own "Activity started" line is written
 * before any interceptor sees the input, so it has the ids but not these fields.
 */
import type { Context } from '@temporalio/activity';
import type { ActivityInterceptors } from '@temporalio/worker';

export function runFields(input: unknown): Record<string, unknown> {
  if (!input || typeof input !== 'object') return {};
  const run = (input as { run?: unknown }).run;
  if (run && typeof run === 'object') {
    const r = run as { runDate?: unknown; stage?: unknown; stageAttempt?: unknown };
    return { runDate: r.runDate, stage: r.stage, stageAttempt: r.stageAttempt };
  }
  const notice = input as { runDate?: unknown; kind?: unknown };
  if (typeof notice.runDate === 'string') return { runDate: notice.runDate, stage: 'notify', noticeKind: notice.kind };
  return {};
}

/** For WorkerOptions.interceptors.activity. */
export function activityLogFields(_ctx: Context): ActivityInterceptors {
  let fields: Record<string, unknown> = {};
  return {
    inbound: {
      execute(input, next) {
        fields = runFields(input.args[0]);
        return next(input);
      },
    },
    outbound: {
      getLogAttributes(attributes, next) {
        return next({ ...attributes, ...fields });
      },
    },
  };
}
