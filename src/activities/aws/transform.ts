/** The transform stage on AWS: the Glue Spark job that runs the rendered rules over one day. */
import { BatchStopJobRunCommand, GetJobRunCommand, GetJobRunsCommand, StartJobRunCommand } from '@aws-sdk/client-glue';
import type { GlueClient, JobRun } from '@aws-sdk/client-glue';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { AwsConfig } from '../../config';
import { MODEL_VERSION, rulesFileName } from '../../rules/artifact';
import type { EtlRunHandle, EtlRunStatus, JobState, RunRef } from '../types';
import { awsCall, awsErrorName, classifyAwsError } from './aws-errors';
import { consoleLinks } from './console-links';
import { lakePaths } from './lake-paths';
import { glueRunErrorTail } from './logs';
import { runKey } from './tokens';

/** The job argument that ties a Glue job run to the workflow stage attempt that started it. */
export const RUN_KEY_ARGUMENT = '--pipeline_run_key';
/** The job arguments naming the rules file and the model version this worker's rules are. */
export const RULES_ARGUMENT = '--rules';
export const RULES_MODEL_ARGUMENT = '--rules_model';

/**
 * Where `pipeline aws setup` puts the rules the job runs (src/rules/artifact.ts): beside the job
 * script, under a versioned name, so a run started by this worker reads the rules it was built with.
 */
export const rulesObjectKey = (config: AwsConfig) => `${config.prefix}scripts/${rulesFileName()}`;

/** How many recent job runs are searched for one this stage attempt already started. */
const REATTACH_SCAN_PAGES = 3;

export async function startEtlRun(glue: GlueClient, config: AwsConfig, run: RunRef): Promise<EtlRunHandle> {
  const resource = `Glue job ${config.glueJob}`;
  const key = runKey(run, 'etl');
  const existing = await findRunByKey(glue, config.glueJob, key);
  if (existing) return { etlRunId: existing };
  const paths = lakePaths(config);
  const command = new StartJobRunCommand({
    JobName: config.glueJob,
    Arguments: {
      '--run_date': run.runDate,
      '--raw_path': paths.rootUri,
      '--processed_path': paths.processedUri,
      // The job refuses rules of another model in one line, naming both: run `pipeline aws setup` again.
      [RULES_ARGUMENT]: `s3://${config.bucket}/${rulesObjectKey(config)}`,
      [RULES_MODEL_ARGUMENT]: MODEL_VERSION,
      [RUN_KEY_ARGUMENT]: key,
    },
  });
  let out;
  try {
    out = await glue.send(command);
  } catch (err) {
    // Other runs of the job (a backfill) hold every slot: a wait, not a failure.
    if (awsErrorName(err) === 'ConcurrentRunsExceededException') {
      return { etlRunId: '', busy: `${resource} is at its concurrent-runs limit (${describeBriefly(err)}); waiting for a free slot` };
    }
    throw classifyAwsError(err, resource, 'StartJobRun');
  }
  if (!out.JobRunId) throw new Error(`StartJobRun on ${resource} returned no JobRunId`);
  return { etlRunId: out.JobRunId };
}

function describeBriefly(err: unknown): string {
  return ((err as Error | undefined)?.message ?? String(err)).replace(/\s+/g, ' ').trim() || 'no message';
}

async function findRunByKey(glue: GlueClient, jobName: string, key: string): Promise<string | undefined> {
  let nextToken: string | undefined;
  for (let page = 0; page < REATTACH_SCAN_PAGES; page++) {
    const out = await awsCall(`Glue job ${jobName}`, 'GetJobRuns', () =>
      glue.send(new GetJobRunsCommand({ JobName: jobName, NextToken: nextToken, MaxResults: 100 })),
    );
    const hit = (out.JobRuns ?? []).find((r) => r.Arguments?.[RUN_KEY_ARGUMENT] === key);
    if (hit?.Id) return hit.Id;
    nextToken = out.NextToken;
    if (!nextToken) return undefined;
  }
  return undefined;
}

const DPU_PER_WORKER: Record<string, number> = { Standard: 1, 'G.025X': 0.25, 'G.1X': 1, 'G.2X': 2, 'G.4X': 4, 'G.8X': 8, 'Z.2X': 2 };

/** Glue bills DPU-seconds; auto-scaling and flex runs report them, others are capacity x time. */
export function dpuSeconds(r: JobRun): number | undefined {
  if (r.DPUSeconds !== undefined) return r.DPUSeconds;
  const seconds = r.ExecutionTime;
  if (!seconds) return undefined;
  if (r.MaxCapacity) return r.MaxCapacity * seconds;
  if (r.NumberOfWorkers && r.WorkerType) return r.NumberOfWorkers * (DPU_PER_WORKER[r.WorkerType] ?? 1) * seconds;
  return undefined;
}

function jobState(glueState: string | undefined): JobState {
  switch (glueState) {
    case 'SUCCEEDED':
      return 'SUCCEEDED';
    case 'FAILED':
    case 'TIMEOUT':
    case 'ERROR':
    case 'EXPIRED':
      return 'FAILED';
    case 'STOPPED':
      return 'CANCELLED';
    default: // STARTING, RUNNING, STOPPING, WAITING
      return 'RUNNING';
  }
}

export async function getEtlRun(
  glue: GlueClient,
  config: AwsConfig,
  runId: string,
  logs?: CloudWatchLogsClient,
): Promise<{ status: EtlRunStatus; run: JobRun }> {
  const out = await awsCall(`Glue job ${config.glueJob} run ${runId}`, 'GetJobRun', () =>
    glue.send(new GetJobRunCommand({ JobName: config.glueJob, RunId: runId, PredecessorsIncluded: false })),
  );
  const r = out.JobRun ?? {};
  const state = jobState(r.JobRunState);
  const metrics: Record<string, number> = {};
  const dpu = dpuSeconds(r);
  if (dpu !== undefined) metrics.dpuSeconds = dpu;
  if (r.ExecutionTime) metrics.durationMs = r.ExecutionTime * 1000;
  const status: EtlRunStatus = { state, metrics, consoleUrl: consoleLinks.glueJobRun(config.region, config.glueJob, runId) };
  if (state !== 'RUNNING' && state !== 'SUCCEEDED') {
    const where = logs ? await glueRunErrorTail(logs, r.LogGroupName, runId) : r.LogGroupName ? ` (logs: ${r.LogGroupName}/${runId})` : '';
    status.message = `Glue job ${config.glueJob} run ${runId} ended ${r.JobRunState}: ${r.ErrorMessage ?? 'no error message'}${where}`;
  }
  return { status, run: r };
}

export async function stopEtlRun(glue: GlueClient, config: AwsConfig, runId: string): Promise<void> {
  const out = await awsCall(`Glue job ${config.glueJob} run ${runId}`, 'BatchStopJobRun', () =>
    glue.send(new BatchStopJobRunCommand({ JobName: config.glueJob, JobRunIds: [runId] })),
  );
  const error = out.Errors?.find((e) => e.JobRunId === runId)?.ErrorDetail;
  // A run that already ended cannot be stopped, and needs not be.
  if (error && !/(SUCCEEDED|FAILED|STOPPED|TIMEOUT|ERROR|not running|already)/i.test(error.ErrorMessage ?? '')) {
    throw new Error(
      `BatchStopJobRun on Glue job ${config.glueJob} run ${runId} failed: ${error.ErrorCode ?? ''} ${error.ErrorMessage ?? ''}`.trim(),
    );
  }
}
