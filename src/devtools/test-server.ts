/**
 * Temporal's time-skipping test server (from the Java SDK), resolved from Maven Central by
 * scripts/ensure-test-server.sh and started here on 127.0.0.1 with a port the kernel picks.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { isExecutable } from './executables';
import { startManagedProcess } from './managed-process';
import { toolCacheDir } from './tool-cache';

const ENSURE_SCRIPT = path.resolve(__dirname, '..', '..', 'scripts', 'ensure-test-server.sh');

export function testServerLauncherPath(): string {
  return path.join(toolCacheDir(), 'test-server', 'temporal-test-server');
}

/** TEMPORAL_TEST_SERVER_PATH, else the cached launcher, else runs scripts/ensure-test-server.sh (Maven, once). */
export function findTestServer(): string {
  const fromEnv = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (fromEnv) {
    if (isExecutable(fromEnv)) return fromEnv;
    throw new Error(
      `TEMPORAL_TEST_SERVER_PATH=${fromEnv} is not an executable file; unset it or point it at a temporal-test-server launcher`,
    );
  }
  const cached = testServerLauncherPath();
  if (isExecutable(cached)) return cached;
  process.stderr.write(
    'the Temporal test server is not set up yet: running scripts/ensure-test-server.sh (Maven, about a minute once)...\n',
  );
  const result = spawnSync('bash', [ENSURE_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`scripts/ensure-test-server.sh failed (exit ${result.status ?? result.signal}); see its output above`);
  const printed = result.stdout.trim().split('\n').pop() ?? '';
  if (!isExecutable(printed)) throw new Error(`scripts/ensure-test-server.sh did not print a launcher path (got "${printed}")`);
  return printed;
}

export interface TestServerOptions {
  /** Launcher to run; findTestServer() when omitted. */
  launcherPath?: string;
  /** How long the JVM may take to listen (default 60 s: a cold JVM on a busy machine is slow). */
  startTimeoutMs?: number;
}

export interface TestServerHandle {
  /** 127.0.0.1:port */
  address: string;
  pid: number;
  logTail(): string;
  stop(): Promise<void>;
}

export class TestServerStartError extends Error {
  override name = 'TestServerStartError';
}

/** Starts the JVM and resolves once it accepts gRPC calls (its launcher prints the port it bound). */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServerHandle> {
  const launcher = options.launcherPath ?? findTestServer();
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const proc = startManagedProcess(launcher, ['0']);
  let stdout = '';
  let onReady: ((address: string) => void) | undefined;
  const ready = new Promise<string>((resolve) => (onReady = resolve));
  proc.child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    const match = /^listening on (\S+)$/m.exec(stdout);
    if (match) onReady?.(match[1]);
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const outcome = await Promise.race([ready, timedOut, proc.exited.then((code) => ({ exited: code }))]);
  clearTimeout(timer);
  if (typeof outcome !== 'string' || outcome === 'timeout') {
    const what =
      outcome === 'timeout' ? `did not listen within ${Math.round(timeoutMs / 1000)} s` : `exited (${outcome.exited}) before listening`;
    await proc.stop(2_000);
    throw new TestServerStartError(`the Temporal test server (${launcher}) ${what}. Its last output:\n${proc.tail()}`);
  }
  return { address: outcome, pid: proc.pid, logTail: () => proc.tail(), stop: () => proc.stop() };
}
