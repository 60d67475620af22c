/** Logs and metrics for the worker and the CLI. */
export { createLogger, PinoTemporalLogger } from './logger';
export type { LoggerOptions, LogLevel } from './logger';
export { installRuntime } from './runtime';
export type { InstalledRuntime, RuntimeSetup } from './runtime';
export { activityLogFields, runFields } from './activity-log-fields';
export { workerInterceptors, workflowInterceptorModules } from './interceptors';
