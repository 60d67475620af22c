/**
 * dailyPipeline: one run per logical date, stages in order. A stage that fails after its retries
 * does not end the run: the run notifies, then waits durably for an operator's skipStage or
 * rerunStage; only when that wait runs out does the run fail. Cancelling the run stops the work it
 * started and sends a cancellation notice.
 */
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, msToNumber } from '@temporalio/common';
import { CancellationScope, condition, isCancellation, log, patched, proxyActivities, setHandler, upsertMemo } from '@temporalio/workflow';
import type { NoticeKind, PipelineActivities, PublishResult } from '../activities/types';
import type { StageName } from '../shared/contract';
import { STAGES } from '../shared/contract';
import type { PipelineInput, PipelineResult } from './definitions';
import { rawDataArrivedSignal, rerunStageSignal, skipStageSignal, statusQuery } from './definitions';
import { recordArrival } from './raw-data-arrivals';
import { buildNotice, failureKeyText } from './notices';
import { OperatorControl } from './operator-control';
import { resolveOptions } from './options';
import { RunBook } from './run-book';
import { resolveRunDate } from './run-date';
import type { StageContext } from './stages';
import { STAGE_RUNNERS, StageError } from './stages';

export const FINAL_FAILURE_TYPE = 'PipelineFailed';
/**
 * Runs started before this patch keyed a stage-failure notice by its whole text, deadline included,
 * so a rerun that failed the same way announced it again.
 */
const FAILURE_NOTICE_KEY_PATCH = 'stage-failure-notice-keyed-by-cause';
/** Runs before the extract stage existed scheduled no extract activity; they never asked for one either. */
const EXTRACT_STAGE_PATCH = 'extract-stage';
const EXTRACT_OFF_MESSAGE = 'extract not configured: off unless the run options set stages.extract.enabled';

function describeError(err: unknown): string {
  if ((err instanceof ActivityFailure || err instanceof ChildWorkflowFailure) && err.cause) {
    return err.cause.message;
  }
  return err instanceof Error ? err.message : String(err);
}

export async function dailyPipeline(input: PipelineInput = {}): Promise<PipelineResult> {
  const { runDate, trigger } = resolveRunDate(input);
  const options = resolveOptions(input.options);
  const book = new RunBook(runDate, trigger);
  const control = new OperatorControl(book);
  const ctx: StageContext = { book, options };
  const notifyOpts = options.stages.notify;
  const notifier = proxyActivities<PipelineActivities>({ startToCloseTimeout: notifyOpts.activityTimeout, retry: notifyOpts.retry });

  setHandler(statusQuery, () => book.status);
  setHandler(skipStageSignal, (stage, reason) => control.onSignal('skip', stage, reason));
  setHandler(rerunStageSignal, (stage, reason) => control.onSignal('rerun', stage, reason));
  // Only recorded: a handler that issues no commands leaves histories from before it replaying unchanged.
  setHandler(rawDataArrivedSignal, (arrival) => recordArrival(book.status, arrival));

  /** Publishes a notice once per outcome: the same failure after a rerun is not announced twice. */
  async function notify(kind: NoticeKind, detail: string, keyParts: string[], keyText?: string): Promise<PublishResult | undefined> {
    const notice = buildNotice(book, kind, detail, keyParts, keyText);
    if (book.status.noticesSent.includes(notice.key)) return undefined;
    const published = await notifier.publishNotification.executeWithOptions({ summary: `${kind} notice` }, [notice]);
    book.status.noticesSent.push(notice.key);
    return published;
  }

  /** Failure notices must not take the run down with them when the channel itself is broken. */
  async function notifyBestEffort(kind: NoticeKind, detail: string, keyParts: string[], keyText?: string): Promise<void> {
    try {
      await notify(kind, detail, keyParts, keyText);
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.error(`could not publish ${kind} notice`, { error: describeError(err) });
    }
  }

  function remember(): void {
    upsertMemo({
      status: {
        state: book.status.state,
        stages: book.status.stages.map((s) => ({ stage: s.stage, state: s.state, attempts: s.attempts, message: s.message })),
      },
    });
  }

  /** Extract runs when the run's options turn it on, the run starts from it, or an operator reran it. */
  const extractWanted = () =>
    options.stages.extract.enabled ||
    input.startFrom === 'extract' ||
    book.status.operatorActions.some((a) => a.signal === 'rerunStage' && a.stage === 'extract' && a.outcome.startsWith('applied'));

  let i = input.startFrom ? STAGES.indexOf(input.startFrom) : 0;
  const startedFrom = `run started from ${input.startFrom}${input.reason ? `: ${input.reason}` : ''}`;
  for (const earlier of STAGES.slice(0, i)) book.end(earlier, 'skipped', startedFrom);

  while (i < STAGES.length) {
    const stage: StageName = STAGES[i]!;
    const queuedSkip = control.queuedSkips.get(stage);
    if (queuedSkip !== undefined) {
      control.queuedSkips.delete(stage);
      book.end(stage, 'skipped', `skipped by operator: ${queuedSkip}`);
      i++;
      continue;
    }
    // Off: shown as skipped, and nothing is recorded in the history (no activity, no patch marker).
    if (stage === 'extract' && !(extractWanted() && patched(EXTRACT_STAGE_PATCH))) {
      book.end(stage, 'skipped', EXTRACT_OFF_MESSAGE);
      i++;
      continue;
    }

    const s = book.begin(stage);
    log.info(`stage ${stage} started`, { runDate, stage, attempt: s.attempts });
    const scope = new CancellationScope();
    control.running = { stage, scope };
    try {
      await scope.run(async () => {
        if (stage === 'notify') {
          // A channel that failed while another delivered is the operator's to know, not a failed run.
          const failures = (await notify('succeeded', '', ['run']))?.failures ?? [];
          if (failures.length) {
            s.metrics.failedChannels = failures.length;
            s.message = `delivered, but not to: ${failures.map((f) => `${f.channel} (${f.error})`).join('; ')}`;
          }
        } else {
          await STAGE_RUNNERS[stage](ctx, s);
        }
      });
      control.running = undefined;
      book.end(stage, 'succeeded');
      // A signal that arrived as the stage was finishing: a rerun still applies, a skip is moot.
      const late = control.takeInterrupt();
      if (late?.kind === 'rerun') {
        book.resetFrom(late.stage);
        i = STAGES.indexOf(late.stage);
      } else {
        i++;
      }
      continue;
    } catch (err) {
      control.running = undefined;
      const interrupt = control.takeInterrupt();
      if (interrupt && isCancellation(err) && !CancellationScope.current().consideredCancelled) {
        if (interrupt.kind === 'skip') {
          book.end(stage, 'skipped', `skipped by operator while running: ${interrupt.reason}`);
          i++;
        } else {
          book.end(stage, 'failed', `stopped by operator to rerun from ${interrupt.stage}: ${interrupt.reason}`);
          book.resetFrom(interrupt.stage);
          i = STAGES.indexOf(interrupt.stage);
        }
        continue;
      }
      if (isCancellation(err)) {
        await CancellationScope.nonCancellable(async () => {
          book.end(stage, 'cancelled', 'cancelled by an operator; the work it had started was stopped');
          book.setRunState('cancelled');
          remember();
          await notifyBestEffort('cancelled', `Cancelled during ${stage}; work it had started was stopped.`, [stage]);
        });
        throw err;
      }
      const message = describeError(err);
      book.end(stage, 'failed', message);
      log.warn(`stage ${stage} failed`, { runDate, stage, error: message });
      const kind: NoticeKind = err instanceof StageError ? err.noticeKind : 'stage_failed';
      const decision = await waitForOperator(stage, kind, message);
      if (decision.kind === 'skip') {
        book.end(stage, 'skipped', `skipped by operator after failure: ${decision.reason}`);
        i++;
      } else {
        book.resetFrom(decision.stage);
        i = STAGES.indexOf(decision.stage);
      }
    }
  }

  book.setRunState('succeeded');
  book.status.currentStage = undefined;
  remember();
  return { runDate, state: 'succeeded', stages: book.status.stages, quality: book.status.quality };

  async function waitForOperator(stage: StageName, kind: NoticeKind, message: string) {
    const until = new Date(new Date().getTime() + msToNumber(options.operatorWait)).toISOString();
    book.setRunState('awaiting_operator', until);
    control.awaiting = stage;
    const detail =
      `${stage} failed: ${message}\nBefore ${until}, rerun it with \`pipeline rerun ${stage} ${runDate} -r "<why>"\` ` +
      `or skip it with \`pipeline skip ${stage} ${runDate} -r "<why>"\` (signals rerunStage / skipStage), or the run fails.`;
    // Runs from before the patch keyed the notice by its whole text, as it was worded then: kept, so
    // a failure they announced is not announced again under the new wording.
    const keyText = patched(FAILURE_NOTICE_KEY_PATCH)
      ? failureKeyText(message)
      : `${stage} failed: ${message}\nSend rerunStage or skipStage before ${until}, or the run fails.`;
    await notifyBestEffort(kind, detail, [stage, 'failed'], keyText);
    try {
      const acted = await condition(() => control.decision !== undefined, options.operatorWait);
      if (acted) return control.takeDecision()!;
    } catch (err) {
      if (isCancellation(err)) {
        await CancellationScope.nonCancellable(async () => {
          book.setRunState('cancelled');
          remember();
          await notifyBestEffort('cancelled', `Cancelled while ${stage} waited for an operator after failing: ${message}`, [stage]);
        });
      }
      throw err;
    } finally {
      control.awaiting = undefined;
    }
    book.setRunState('failed');
    remember();
    const final = `${stage} failed and no operator acted within ${String(options.operatorWait)}: ${message}`;
    await notifyBestEffort('failed', final, [stage]);
    throw ApplicationFailure.nonRetryable(final, FINAL_FAILURE_TYPE);
  }
}
