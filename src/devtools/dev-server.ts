/**
 * The Temporal CLI dev server (`temporal server start-dev`): a real Temporal server with the Web UI,
 * bound to 127.0.0.1, for the demo, the end-to-end tests and benchmarks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { freePort } from './free-port';
import { startManagedProcess } from './managed-process';
import type { ManagedProcess } from './managed-process';
import { findTemporalCli } from './temporal-cli';

const HOST = '127.0.0.1';

export interface DevServerOptions {
  /** Frontend gRPC port; a free one when omitted. */
  port?: number;
  /** Web UI port; a free one when omitted. */
  uiPort?: number;
  /** No Web UI (saves a little memory in tests). */
  headless?: boolean;
  /** SQLite file that keeps workflow histories across restarts; in memory when omitted. */
  dbFile?: string;
  /** Created at start (the `default` namespace always exists). */
  namespace?: string;
  /** Custom search attributes: `Name` (registered as Keyword) or `Name=Type`. */
  searchAttributes?: readonly string[];
  /** How long to wait for the server to answer (default 60 s). */
  startTimeoutMs?: number;
  /** `temporal` binary; found (or built) with findTemporalCli when omitted. */
  cliPath?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

export interface DevServerHandle {
  /** host:port of the frontend gRPC service. */
  address: string;
  /** Web UI base URL (empty when headless). */
  uiUrl: string;
  namespace: string;
  /** Process id of the server (leader of its own process group). */
  pid: number;
  /** Last lines the server wrote, for diagnostics. */
  logTail(): string;
  /** Stops the server and everything it started; resolves once it has exited. */
  stop(): Promise<void>;
  /** Resolves with the exit code (or signal name) once the server has exited, for whatever reason. */
  exited?: Promise<string>;
}

export class DevServerStartError extends Error {
  override name = 'DevServerStartError';
}

/** True when a Temporal frontend answers at `address` within `timeoutMs`. */
export async function isServerUp(address: string, timeoutMs = 1500): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

function searchAttributeArg(spec: string): string {
  return spec.includes('=') ? spec : `${spec}=Keyword`;
}

function searchAttributeName(spec: string): string {
  return spec.split('=')[0];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServerHandle> {
  const cli = options.cliPath ?? (await findTemporalCli());
  // Ports we pick (the HTTP API's and the metrics' always) can be taken by someone else before the
  // server binds them; then we pick again. A clash on a port the caller gave is theirs to resolve.
  const given = [options.port, options.uiPort].filter((p): p is number => p !== undefined);
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startOnce(cli, options);
    } catch (err) {
      lastError = err;
      if (!(err instanceof DevServerStartError && clashOnPickedPort(err.message, given))) throw err;
    }
  }
  throw lastError;
}

/**
 * Whether the server's start-up log says a port it was told to listen on was taken, and that port
 * is not one of `given` (the caller's): only then does picking ports again help.
 */
export function clashOnPickedPort(log: string, given: readonly number[]): boolean {
  const taken = [...log.matchAll(/listen(?:ing)? tcp [^\s]*?:(\d+): bind: address already in use/gi)].map((m) => Number(m[1]));
  if (taken.length === 0) return /address already in use/i.test(log) && given.length === 0;
  return taken.every((p) => !given.includes(p));
}

async function startOnce(cli: string, options: DevServerOptions): Promise<DevServerHandle> {
  const namespace = options.namespace ?? 'default';
  const port = options.port ?? (await freePort(HOST));
  const uiPort = options.headless ? undefined : (options.uiPort ?? (await freePort(HOST)));
  // Given explicitly so that nothing the CLI opens picks its own port or interface.
  const httpPort = await freePort(HOST);
  const metricsPort = await freePort(HOST);
  const args = [
    'server',
    'start-dev',
    '--ip',
    HOST,
    '--port',
    String(port),
    '--http-port',
    String(httpPort),
    '--metrics-port',
    String(metricsPort),
    '--log-level',
    options.logLevel ?? 'warn',
    // Hands an activity to the worker that scheduled it in the same round trip, as Temporal Cloud does.
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
  ];
  if (uiPort === undefined) args.push('--headless');
  else args.push('--ui-ip', HOST, '--ui-port', String(uiPort));
  if (options.dbFile) {
    // The server refuses a database file whose folder does not exist (a fresh clone has no data/).
    fs.mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  if (namespace !== 'default') args.push('--namespace', namespace);
  for (const sa of options.searchAttributes ?? []) args.push('--search-attribute', searchAttributeArg(sa));

  const address = `${HOST}:${port}`;
  const proc = startManagedProcess(cli, args);
  try {
    await waitUntilReady(
      proc,
      address,
      namespace,
      (options.searchAttributes ?? []).map(searchAttributeName),
      options.startTimeoutMs ?? 60_000,
    );
  } catch (err) {
    await proc.stop(2_000);
    throw err;
  }
  return {
    address,
    uiUrl: uiPort === undefined ? '' : `http://${HOST}:${uiPort}`,
    namespace,
    pid: proc.pid,
    logTail: () => proc.tail(),
    stop: () => proc.stop(),
    exited: proc.exited,
  };
}

/** Why the server is not ready yet, or undefined when it is. */
async function readinessProblem(address: string, namespace: string, attributes: string[], deadline: number): Promise<string | undefined> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: Math.min(2_000, Math.max(deadline - Date.now(), 100)) });
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = attributes.filter((name) => !(customAttributes && name in customAttributes));
    return missing.length === 0 ? undefined : `search attributes not registered yet: ${missing.join(', ')}`;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** Ready means: the frontend answers, the namespace exists and every custom search attribute is registered. */
async function waitUntilReady(
  proc: ManagedProcess,
  address: string,
  namespace: string,
  attributes: string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    if (proc.hasExited()) {
      throw new DevServerStartError(
        `the Temporal dev server exited (${await proc.exited}) before it was ready at ${address}:\n${proc.tail()}`,
      );
    }
    // A server that dies while we wait for an answer is reported at once, not after the connect timeout.
    const problem = await Promise.race([readinessProblem(address, namespace, attributes, deadline), proc.exited.then(() => 'exited')]);
    if (problem === undefined) return;
    lastProblem = problem;
    if (problem !== 'exited') await sleep(200);
  }
  throw new DevServerStartError(
    `the Temporal dev server did not become ready at ${address} within ${Math.round(timeoutMs / 1000)} s (${lastProblem}). Its last output:\n${proc.tail()}`,
  );
}
