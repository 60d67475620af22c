/**
 * The raw-data sensor, as a child workflow: it polls the three raw partitions with durable timers
 * until all have files, alerts once after a soft deadline and gives up at a hard one. It continues
 * as new every `pollsPerHistory` polls, so a sensor that waits for days keeps a short history.
 */
import { ApplicationFailure, msToNumber } from '@temporalio/common';
import { continueAsNew, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { PipelineActivities, RawPartitionListing, RunRef } from '../activities/types';
import type { Entity } from '../shared/contract';
import { ENTITIES } from '../shared/contract';
import type { SensorOptions } from './definitions';
import { nowMs } from './run-book';

export interface SensorInput {
  run: RunRef;
  options: SensorOptions;
  /** Epoch ms when the sensor first started; carried across continue-as-new. */
  startedAtMs: number;
  found?: Partial<Record<Entity, RawPartitionListing>>;
  polls?: number;
  alerted?: boolean;
  /**
   * Set by a run that has just looked at the partitions itself (`polls` counts that look): the
   * sensor waits one interval before its first listing instead of listing again at once.
   */
  waitFirst?: boolean;
  /** The parent run, for the late-data notice's link. */
  parent: { workflowId: string; runId: string };
}

export interface SensorResult {
  listings: RawPartitionListing[];
  polls: number;
  waitedMs: number;
  lateAlertSent: boolean;
}

export const SENSOR_TIMEOUT_TYPE = 'SensorTimeout';

export async function awaitRawDataSensor(input: SensorInput): Promise<SensorResult> {
  const { run, options } = input;
  const acts = proxyActivities<PipelineActivities>({ startToCloseTimeout: options.activityTimeout, retry: options.retry });
  const found: Partial<Record<Entity, RawPartitionListing>> = { ...input.found };
  let polls = input.polls ?? 0;
  let alerted = input.alerted ?? false;
  const timeoutMs = msToNumber(options.timeout);
  const softMs = msToNumber(options.softDeadline);
  const intervalMs = msToNumber(options.pollInterval);

  if (input.waitFirst) await sleep(Math.max(1, Math.min(intervalMs, timeoutMs - (nowMs() - input.startedAtMs))));
  for (let pollsHere = 0; ; pollsHere++) {
    const missing = ENTITIES.filter((e) => !found[e]);
    const listings = await Promise.all(
      missing.map((entity) =>
        acts.listRawPartition.executeWithOptions({ summary: `list raw/${entity}/${run.runDate}/` }, [{ run, entity }]),
      ),
    );
    polls += 1;
    for (const listing of listings) if (listing.objects.length > 0) found[listing.entity] = listing;

    const stillMissing = ENTITIES.filter((e) => !found[e]);
    const waitedMs = nowMs() - input.startedAtMs;
    if (stillMissing.length === 0) {
      return { listings: ENTITIES.map((e) => found[e]!), polls, waitedMs, lateAlertSent: alerted };
    }
    if (waitedMs >= timeoutMs) {
      throw ApplicationFailure.nonRetryable(
        `no raw data for ${stillMissing.map((e) => `raw/${e}/${run.runDate}/`).join(', ')} after waiting ${options.timeout} (${polls} polls)`,
        SENSOR_TIMEOUT_TYPE,
      );
    }
    if (!alerted && waitedMs >= softMs) {
      await acts.publishNotification.executeWithOptions({ summary: 'late raw data alert' }, [
        {
          key: `${input.parent.workflowId}/${input.parent.runId}/sensor_late/${run.stageAttempt}`,
          kind: 'sensor_late',
          runDate: run.runDate,
          workflowId: input.parent.workflowId,
          runId: input.parent.runId,
          namespace: workflowInfo().namespace,
          subject: `[ecommerce-pipeline] ${run.runDate} raw data is late`,
          text: `Still waiting for ${stillMissing.join(', ')} after ${options.softDeadline}; the sensor keeps waiting until ${options.timeout}.`,
          stages: [],
        },
      ]);
      alerted = true;
    }
    if (pollsHere + 1 >= options.pollsPerHistory || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof awaitRawDataSensor>({ ...input, found, polls, alerted, waitFirst: undefined });
    }
    await sleep(Math.max(1, Math.min(intervalMs, timeoutMs - waitedMs)));
  }
}
