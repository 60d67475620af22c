/**
 * A real time-skipping TestWorkflowEnvironment on the project's test-server launcher, through the
 * SDK's public API only: `TestWorkflowEnvironment.createTimeSkipping` with the launcher as its
 * `existing-path` executable. The SDK runs `<launcher> <port>`, wires the test service on both
 * connections and the time-skipping client, and kills the process on teardown.
 *
 * The launcher (scripts/ensure-test-server.sh) binds 127.0.0.1 only and starts from a class-data
 * sharing archive, well inside the SDK's start window (50 connection attempts 100 ms apart, about
 * 5 s); on a loaded machine a start can still miss it, so a start that timed out (and only that, the
 * SDK kills its process) is tried again.
 */
import { execFileSync } from 'node:child_process';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { findTestServer } from '../../../src/devtools';

export interface TimeSkippingEnvOptions {
  /** Launcher to run; findTestServer() when omitted. */
  launcherPath?: string;
  /** Starts tried when the SDK's start window is missed (default 3). */
  attempts?: number;
}

const serverPids = new WeakMap<TestWorkflowEnvironment, number>();

/**
 * The pid of the server process the SDK started for `port`: this process's child whose command line
 * ends with that port (`<launcher> <port>`; the launcher execs the JVM, so this is the JVM).
 */
function childServerPid(port: string): number | undefined {
  const out = execFileSync('ps', ['-A', '-ww', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' });
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*\S)\s*$/.exec(line);
    if (m && Number(m[2]) === process.pid && m[3]!.endsWith(` ${port}`)) return Number(m[1]);
  }
  return undefined;
}

/** A time-skipping environment on its own test-server JVM; `teardown()` stops the JVM. */
export async function createTimeSkippingEnv(options: TimeSkippingEnvOptions = {}): Promise<TestWorkflowEnvironment> {
  const launcher = options.launcherPath ?? findTestServer();
  const attempts = options.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    try {
      const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: launcher } } });
      const pid = childServerPid(env.address.split(':').pop()!);
      if (pid !== undefined) serverPids.set(env, pid);
      return env;
    } catch (err) {
      if (attempt >= attempts || !/did not start within/.test(String((err as Error).message))) throw err;
      console.log(`the time-skipping server missed the SDK's start window (${(err as Error).message}); trying again`);
    }
  }
}

/** The pid of the JVM behind an environment made by createTimeSkippingEnv. */
export function timeSkippingServerPid(env: TestWorkflowEnvironment): number | undefined {
  return serverPids.get(env);
}
