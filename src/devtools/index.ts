/** Tools for running real Temporal servers on this machine: the CLI dev server and the Java test server. */
export { findTemporalCli, temporalCliCachePath } from './temporal-cli';
export type { FindTemporalCliOptions } from './temporal-cli';
export { startDevServer, isServerUp, DevServerStartError, clashOnPickedPort } from './dev-server';
export type { DevServerOptions, DevServerHandle } from './dev-server';
export { findTestServer, startTestServer, testServerLauncherPath, TestServerStartError } from './test-server';
export type { TestServerOptions, TestServerHandle } from './test-server';
export { freePort } from './free-port';
export { toolCacheDir } from './tool-cache';
