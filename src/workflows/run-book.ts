/**
 * The run's status as the `status` query shows it, plus the search attributes and UI details that
 * mirror it. All state changes go through here so the three never disagree.
 */
import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { StageName } from '../shared/contract';
import { STAGES } from '../shared/contract';
import type { PipelineStatus, RunState, StageState, StageStatus, Trigger } from './definitions';
import { SA_RUN_DATE, SA_STAGE, SA_STATUS, SA_TRIGGER } from './definitions';

/** Workflow time: the sandbox pins Date to the current workflow task, so this is replay-safe. */
export function nowIso(): string {
  return new Date().toISOString();
}

export function nowMs(): number {
  return new Date().getTime();
}

export class RunBook {
  readonly status: PipelineStatus;
  private shownStage?: string;
  private shownState?: string;

  constructor(runDate: string, trigger: Trigger) {
    this.status = {
      runDate,
      trigger,
      state: 'running',
      stages: STAGES.map((stage) => ({ stage, state: 'pending', attempts: 0, externalIds: {}, metrics: {} })),
      operatorActions: [],
      noticesSent: [],
    };
    upsertSearchAttributes([
      { key: SA_RUN_DATE, value: runDate },
      { key: SA_TRIGGER, value: trigger },
    ]);
    this.publish();
  }

  stage(name: StageName): StageStatus {
    return this.status.stages.find((s) => s.stage === name)!;
  }

  begin(name: StageName): StageStatus {
    const s = this.stage(name);
    s.state = 'running';
    s.attempts += 1;
    s.startedAt = nowIso();
    s.endedAt = undefined;
    s.message = undefined;
    this.status.currentStage = name;
    this.status.state = 'running';
    this.status.awaitingOperatorUntil = undefined;
    this.publish();
    return s;
  }

  /** A new attempt of the same stage without leaving it (automatic restart of lost work). */
  restart(name: StageName, message: string): StageStatus {
    const s = this.stage(name);
    s.attempts += 1;
    s.message = message;
    return s;
  }

  end(name: StageName, state: Extract<StageState, 'succeeded' | 'failed' | 'skipped' | 'cancelled'>, message?: string): void {
    const s = this.stage(name);
    s.state = state;
    s.endedAt = nowIso();
    if (message !== undefined) s.message = message;
    this.publish();
  }

  /** Stages from `name` on go back to pending for a rerun; their attempts and ids are kept. */
  resetFrom(name: StageName): void {
    const from = STAGES.indexOf(name);
    for (const s of this.status.stages.slice(from)) {
      s.state = 'pending';
      s.startedAt = undefined;
      s.endedAt = undefined;
      s.message = undefined;
    }
    this.publish();
  }

  setRunState(state: RunState, awaitingUntil?: string): void {
    this.status.state = state;
    this.status.awaitingOperatorUntil = awaitingUntil;
    this.publish();
  }

  durationMs(s: StageStatus): number | undefined {
    if (!s.startedAt || !s.endedAt) return undefined;
    return Date.parse(s.endedAt) - Date.parse(s.startedAt);
  }

  /** Search attributes only change when the stage or state does: each upsert is a history event. */
  private publish(): void {
    const stage = this.status.currentStage ?? 'pending';
    const state = this.status.state;
    if (stage !== this.shownStage || state !== this.shownState) {
      upsertSearchAttributes([
        { key: SA_STAGE, value: stage },
        { key: SA_STATUS, value: state },
      ]);
      this.shownStage = stage;
      this.shownState = state;
    }
    setCurrentDetails(this.details());
  }

  private details(): string {
    const lines = [
      `**${this.status.runDate}** (${this.status.trigger}): ${this.status.state}`,
      '',
      '| stage | state | attempts |',
      '| --- | --- | --- |',
    ];
    for (const s of this.status.stages) lines.push(`| ${s.stage} | ${s.state} | ${s.attempts} |`);
    if (this.status.awaitingOperatorUntil)
      lines.push('', `Waiting for skipStage or rerunStage until ${this.status.awaitingOperatorUntil}.`);
    return lines.join('\n');
  }
}
