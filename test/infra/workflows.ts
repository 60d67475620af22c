/** Workflows for the infrastructure tests only: just enough to show that timers and search attributes work. */
import type { Duration } from '@temporalio/common';
import { sleep, workflowInfo } from '@temporalio/workflow';
import { SA_RUN_DATE } from '../../src/workflows/definitions';

export interface SleepReport {
  /** Workflow time (server time) before and after the sleep, in ms since the epoch. */
  before: number;
  after: number;
}

export async function sleepThenReport(duration: Duration): Promise<SleepReport> {
  const before = Date.now();
  await sleep(duration);
  return { before, after: Date.now() };
}

/** Returns the run date the workflow was started with, as the server delivered it. */
export async function echoRunDate(): Promise<string> {
  return workflowInfo().typedSearchAttributes.get(SA_RUN_DATE) ?? '';
}
