/** Wiring for the worker: which interceptors add the run's fields to log lines. */
import fs from 'node:fs';
import path from 'node:path';
import type { WorkerInterceptors } from '@temporalio/worker';
import { activityLogFields } from './activity-log-fields';

/**
 * The workflow interceptor module, compiled (dist) or TypeScript (tsx, vitest). Pass it to
 * bundleWorkflowCode({ workflowInterceptorModules }) when the bundle is built ahead of time
 * (scripts/build-workflow-bundle.ts); a worker that bundles at start-up takes it from
 * workerInterceptors().workflowModules.
 */
export function workflowInterceptorModules(): string[] {
  for (const candidate of ['workflow-interceptors.js', 'workflow-interceptors.ts']) {
    const file = path.join(__dirname, candidate);
    if (fs.existsSync(file)) return [file];
  }
  throw new Error(`no workflow interceptor module in ${__dirname}`);
}

/**
 * For WorkerOptions.interceptors. A worker given a prebuilt workflow bundle cannot add workflow
 * interceptors (the SDK ignores them with a warning): the bundle must have been built with them.
 */
export function workerInterceptors(options: { prebuiltBundle?: boolean } = {}): WorkerInterceptors {
  return options.prebuiltBundle
    ? { activity: [activityLogFields] }
    : { activity: [activityLogFields], workflowModules: workflowInterceptorModules() };
}
