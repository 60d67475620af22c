/**
 * What the skipStage and rerunStage signals do, depending on where the run is:
 * - a failed stage waiting for an operator: skip it, or rerun it (or an earlier stage) and all after;
 * - the running stage: skip stops its external work and moves on; rerun of it or an earlier stage
 *   stops the work and starts again from that stage;
 * - a stage not reached yet: skip is queued, rerun is ignored (it will run anyway).
 * Every signal is recorded with what was done about it, so the status shows why nothing happened.
 */
import type { CancellationScope } from '@temporalio/workflow';
import { log } from '@temporalio/workflow';
import type { StageName } from '../shared/contract';
import { isStageName, STAGES } from '../shared/contract';
import type { OperatorAction } from './definitions';
import type { RunBook } from './run-book';
import { nowIso } from './run-book';

export interface OperatorDecision {
  kind: 'skip' | 'rerun';
  stage: StageName;
  reason: string;
}

export class OperatorControl {
  /** Set while a failed stage waits for an operator. */
  awaiting?: StageName;
  decision?: OperatorDecision;
  /** Set while a stage runs, so a signal can stop it. */
  running?: { stage: StageName; scope: CancellationScope };
  interrupt?: OperatorDecision;
  readonly queuedSkips = new Map<StageName, string>();

  constructor(private readonly book: RunBook) {}

  onSignal(kind: OperatorDecision['kind'], stageArg: string, reasonArg: string | undefined): void {
    const reason = (reasonArg ?? '').trim() || 'no reason given';
    const record = (outcome: string) => {
      const action: OperatorAction = {
        at: nowIso(),
        signal: kind === 'skip' ? 'skipStage' : 'rerunStage',
        stage: stageArg as StageName,
        reason,
        outcome,
      };
      this.book.status.operatorActions.push(action);
      log.info(`operator ${action.signal}(${stageArg}): ${outcome}`, { reason });
    };
    if (!isStageName(stageArg)) {
      record(`ignored: unknown stage; expected one of ${STAGES.join(', ')}`);
      return;
    }
    const stage = stageArg;
    const target = STAGES.indexOf(stage);

    if (this.awaiting) {
      const failedAt = STAGES.indexOf(this.awaiting);
      if (kind === 'skip' && stage === this.awaiting) {
        this.decision = { kind, stage, reason };
        record('applied: the failed stage is skipped');
      } else if (kind === 'rerun' && target <= failedAt) {
        this.decision = { kind, stage, reason };
        record(`applied: rerunning from ${stage}`);
      } else if (kind === 'skip' && target > failedAt) {
        this.queuedSkips.set(stage, reason);
        record('queued: will be skipped when reached');
      } else {
        record(`ignored: ${this.awaiting} is the failed stage; rerun it or an earlier stage, or skip it`);
      }
      return;
    }

    const running = this.running;
    const current = running ? STAGES.indexOf(running.stage) : -1;
    if (running && ((kind === 'skip' && target === current) || (kind === 'rerun' && target <= current))) {
      if (this.interrupt) {
        record(`ignored: already handling ${this.interrupt.kind} of ${this.interrupt.stage}`);
        return;
      }
      this.interrupt = { kind, stage, reason };
      running.scope.cancel();
      record(
        kind === 'skip'
          ? 'applied: stopping the running stage and skipping it'
          : `applied: stopping ${running.stage} and rerunning from ${stage}`,
      );
      return;
    }
    if (kind === 'skip' && target > current && this.book.stage(stage).state === 'pending') {
      this.queuedSkips.set(stage, reason);
      record('queued: will be skipped when reached');
      return;
    }
    record(kind === 'rerun' ? 'ignored: that stage has not run yet' : `ignored: stage is ${this.book.stage(stage).state}`);
  }

  takeDecision(): OperatorDecision | undefined {
    const d = this.decision;
    this.decision = undefined;
    return d;
  }

  takeInterrupt(): OperatorDecision | undefined {
    const d = this.interrupt;
    this.interrupt = undefined;
    return d;
  }
}
