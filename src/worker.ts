/**
 * Builds the worker for the configured backend. In production (Docker) it loads the prebuilt
 * workflow bundle named by PIPELINE_WORKFLOW_BUNDLE; in development it bundles src/workflows at
 * start-up. SIGINT/SIGTERM drain in-flight activities, then close the backend and the connection.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import type { BoundActivities } from './activities';
import { createActivities } from './activities';
import type { ActivityName, PipelineActivities } from './activities/types';
import type { AppConfig } from './config';
import { ConfigError } from './config';
import { workerInterceptors } from './observability';

export const WORKFLOWS_PATH = path.join(__dirname, 'workflows');

/** The workflows entry point, compiled (dist) or TypeScript (tsx, vitest). */
export function workflowsEntry(): string {
  for (const candidate of ['index.js', 'index.ts']) {
    const file = path.join(WORKFLOWS_PATH, candidate);
    if (fs.existsSync(file)) return file;
  }
  throw new Error(`no workflow entry point in ${WORKFLOWS_PATH}`);
}

export interface PipelineWorkerOptions {
  config: AppConfig;
  connection: NativeConnection;
  /** Defaults to the configured backend's activities. */
  activities?: PipelineActivities & Partial<Pick<BoundActivities, 'close'>>;
  /** Test and benchmark hooks: bundle once and reuse, or override worker options. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  overrides?: Partial<WorkerOptions>;
}

export interface PipelineWorker {
  worker: Worker;
  activities: PipelineActivities & Partial<Pick<BoundActivities, 'close'>>;
  /** Runs until shutdown is requested, then releases the backend. */
  run(): Promise<void>;
}

/**
 * Every activity the workflows call, by name: the object literal must name each key of
 * PipelineActivities and nothing else, so the list cannot drift from the interface.
 */
const ACTIVITY_NAME_SET: Record<ActivityName, true> = {
  extractEntity: true,
  listRawPartition: true,
  startCrawl: true,
  getCrawlState: true,
  startQuery: true,
  getQueryState: true,
  getQueryResults: true,
  stopQuery: true,
  startEtlRun: true,
  getEtlRunState: true,
  stopEtlRun: true,
  startWarehouseStatements: true,
  getStatementState: true,
  getStatementResult: true,
  cancelStatement: true,
  publishNotification: true,
};

export const ACTIVITY_NAMES: readonly ActivityName[] = Object.keys(ACTIVITY_NAME_SET) as ActivityName[];

/**
 * Only the activities of a backend object: its other members (`close`) are the worker's to use,
 * not activities for the server to schedule. (The SDK calls an activity function
 * without `this`, so the functions are taken as they are.)
 */
export function registeredActivities(backend: PipelineActivities): PipelineActivities {
  const out: Partial<Record<ActivityName, unknown>> = {};
  for (const name of ACTIVITY_NAMES) {
    const fn = backend[name] as unknown;
    if (typeof fn === 'function') out[name] = fn;
  }
  return out as PipelineActivities;
}

function bundleFromEnv(): WorkerOptions['workflowBundle'] | undefined {
  const file = process.env.PIPELINE_WORKFLOW_BUNDLE;
  if (!file) return undefined;
  if (!fs.existsSync(file))
    throw new ConfigError('PIPELINE_WORKFLOW_BUNDLE', `has ${JSON.stringify(file)}; no such file (run npm run build)`);
  return { codePath: path.resolve(file) };
}

export async function createPipelineWorker(opts: PipelineWorkerOptions): Promise<PipelineWorker> {
  const { config } = opts;
  const activities = opts.activities ?? createActivities(config);
  const workflowBundle = opts.workflowBundle ?? bundleFromEnv();
  let worker: Worker;
  try {
    worker = await Worker.create({
      connection: opts.connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      ...(workflowBundle ? { workflowBundle } : { workflowsPath: workflowsEntry() }),
      // The backend's activities only: the worker closes the backend itself when it stops (see run).
      activities: registeredActivities(activities),
      // Log lines from workflows and activities carry the workflow id, run date and stage.
      interceptors: workerInterceptors({ prebuiltBundle: Boolean(workflowBundle) }),
      shutdownGraceTime: '30 seconds',
      ...opts.overrides,
    });
  } catch (err) {
    await activities.close?.();
    throw err;
  }
  return {
    worker,
    activities,
    async run() {
      try {
        await worker.run();
      } finally {
        await activities.close?.();
      }
    },
  };
}
