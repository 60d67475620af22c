/**
 * The real Temporal servers the other tests stand on: the Java time-skipping test server and the CLI
 * dev server, both started on 127.0.0.1 with ports chosen at run time, both stopped at the end.
 */
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clashOnPickedPort, findTemporalCli, findTestServer, isServerUp, startDevServer, DevServerStartError } from '../../src/devtools';
import { CUSTOM_SEARCH_ATTRIBUTES, SA_RUN_DATE } from '../../src/workflows/definitions';
import { startTestDevServer } from '../support/temporal/dev-server';
import type { TestDevServer } from '../support/temporal/dev-server';
import { createTimeSkippingEnv, timeSkippingServerPid } from '../support/temporal/time-skipping';
import type { SleepReport } from './workflows';

const DAY_MS = 24 * 60 * 60 * 1000;

// Worker state changes at INFO drown the figures this file prints.
Runtime.install({ logger: new DefaultLogger('WARN') });

let bundle: WorkflowBundleWithSourceMap;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function since(start: bigint): string {
  return `${(Number(process.hrtime.bigint() - start) / 1e9).toFixed(2)} s`;
}

beforeAll(async () => {
  const start = process.hrtime.bigint();
  bundle = await bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'workflows.ts'), logger: new DefaultLogger('WARN') });
  console.log(`workflow bundle built in ${since(start)}`);
});

describe('time-skipping test server (Java, from Maven Central)', () => {
  let env: TestWorkflowEnvironment;
  let pid: number | undefined;

  beforeAll(async () => {
    const start = process.hrtime.bigint();
    env = await createTimeSkippingEnv();
    pid = timeSkippingServerPid(env);
    console.log(`time-skipping environment ready in ${since(start)} at ${env.address}`);
  });

  afterAll(async () => {
    await env?.teardown();
  });

  it('listens on the loopback interface and supports time skipping', () => {
    expect(env.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(env.supportsTimeSkipping).toBe(true);
    expect(pid).toBeGreaterThan(0);
  });

  it('skips a workflow sleep of one day while the result is awaited', async () => {
    const taskQueue = 'infra-time-skipping';
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle });
    const start = process.hrtime.bigint();
    const report: SleepReport = await worker.runUntil(
      env.client.workflow.execute('sleepThenReport', { taskQueue, workflowId: 'infra-sleep-a-day', args: ['1 day'] }),
    );
    console.log(`a 1-day workflow sleep took ${since(start)} of wall time`);
    expect(report.after - report.before).toBeGreaterThanOrEqual(DAY_MS);
  });

  it('moves server time forward on env.sleep', async () => {
    const before = await env.currentTimeMs();
    await env.sleep('3 hours');
    const after = await env.currentTimeMs();
    expect(after - before).toBeGreaterThanOrEqual(3 * 60 * 60 * 1000);
  });

  it('stops its JVM on teardown', async () => {
    const second = await createTimeSkippingEnv();
    const secondPid = timeSkippingServerPid(second);
    expect(secondPid).toBeGreaterThan(0);
    expect(processAlive(secondPid!)).toBe(true);
    await second.teardown();
    expect(processAlive(secondPid!)).toBe(false);
    expect(await isServerUp(second.address, 500)).toBe(false);
  });
});

describe('time-skipping test server launched by the SDK (existing-path executable)', () => {
  /**
   * createTimeSkipping() runs `<launcher> <port>` itself and gives it about 5 s (50 connection
   * attempts, 100 ms apart) to answer. The launcher starts from a CDS archive in well under that on a
   * quiet machine, and the page cache is warm from the JVMs started above; on a loaded 2-core box a
   * start can still miss the window, so a start that timed out (and only that) is tried once more.
   * The SDK kills the process of a start that timed out.
   */
  async function createWithLauncher(launcher: string): Promise<TestWorkflowEnvironment> {
    const options = { server: { executable: { type: 'existing-path' as const, path: launcher } } };
    try {
      return await TestWorkflowEnvironment.createTimeSkipping(options);
    } catch (err) {
      if (!/did not start within/.test(String((err as Error).message))) throw err;
      console.log(`the SDK's start window was missed once (${(err as Error).message}); trying again`);
      return TestWorkflowEnvironment.createTimeSkipping(options);
    }
  }

  it('createTimeSkipping({ server: { executable: { type: "existing-path" } } }) starts our launcher, skips a one-day sleep and stops it', async () => {
    const launcher = findTestServer();
    const start = process.hrtime.bigint();
    const env = await createWithLauncher(launcher);
    let address: string;
    try {
      address = env.address;
      console.log(`SDK-launched time-skipping environment ready in ${since(start)} at ${address}`);
      expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(env.supportsTimeSkipping).toBe(true);

      const taskQueue = 'infra-sdk-launched';
      const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle });
      const sleepStart = process.hrtime.bigint();
      const report: SleepReport = await worker.runUntil(
        env.client.workflow.execute('sleepThenReport', { taskQueue, workflowId: 'infra-sdk-sleep-a-day', args: ['1 day'] }),
      );
      const wallMs = Number(process.hrtime.bigint() - sleepStart) / 1e6;
      console.log(`a 1-day workflow sleep took ${since(sleepStart)} of wall time on the SDK-launched server`);
      expect(report.after - report.before).toBeGreaterThanOrEqual(DAY_MS);
      // Skipped, not waited: a day of server time in (far) less than a minute of wall time.
      expect(wallMs).toBeLessThan(60_000);
    } finally {
      await env.teardown();
    }
    expect(await isServerUp(address, 500)).toBe(false);
  });
});

describe('Temporal CLI dev server', () => {
  let server: TestDevServer;

  beforeAll(async () => {
    const start = process.hrtime.bigint();
    server = await startTestDevServer();
    console.log(`dev server ready in ${since(start)} at ${server.address}`);
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('registers every custom search attribute of the pipeline as a Keyword', async () => {
    const { customAttributes } = await server.connection.operatorService.listSearchAttributes({ namespace: server.namespace });
    const keyword = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
    for (const name of CUSTOM_SEARCH_ATTRIBUTES) expect(customAttributes?.[name], name).toBe(keyword);
  });

  it('runs a workflow on a worker and finds it by PipelineRunDate', async () => {
    const taskQueue = 'infra-dev-server';
    const worker = await Worker.create({
      connection: server.nativeConnection,
      namespace: server.namespace,
      taskQueue,
      workflowBundle: bundle,
    });
    const echoed = await worker.runUntil(
      server.client.workflow.execute('echoRunDate', {
        taskQueue,
        workflowId: 'infra-run-date',
        typedSearchAttributes: [{ key: SA_RUN_DATE, value: '2025-10-27' }],
      }),
    );
    expect(echoed).toBe('2025-10-27');

    // Visibility is eventually consistent: poll (bounded) until the list shows the run.
    let ids: string[] = [];
    for (let i = 0; i < 50 && ids.length === 0; i++) {
      ids = [];
      for await (const wf of server.client.workflow.list({ query: `PipelineRunDate = "2025-10-27"` })) ids.push(wf.workflowId);
      if (ids.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(ids).toEqual(['infra-run-date']);
  });

  it('stops: the port no longer answers and the process is gone', async () => {
    const other = await startDevServer({ headless: true });
    expect(await isServerUp(other.address)).toBe(true);
    await other.stop();
    expect(processAlive(other.pid)).toBe(false);
    expect(await isServerUp(other.address, 500)).toBe(false);
  });

  it('explains a server that does not start, with its output', async () => {
    // /bin/sh reads "server" as a script name and fails: a stand-in for a broken binary.
    const error = await startDevServer({ cliPath: '/bin/sh', headless: true }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DevServerStartError);
    expect(String((error as Error).message)).toMatch(/exited \(2\) before it was ready at 127\.0\.0\.1:\d+:\n.*cannot open server/);
  });

  it('picks its own ports again when one was taken, but not a port the caller gave', () => {
    // The log of a start that lost its HTTP API port (picked by us) to another process on a CI machine.
    const lost = 'failed listening for HTTP API on 127.0.0.1:32891: listen tcp 127.0.0.1:32891: bind: address already in use';
    expect(clashOnPickedPort(lost, [40973])).toBe(true);
    expect(clashOnPickedPort(lost, [32891])).toBe(false);
    expect(clashOnPickedPort('open sqlite: disk I/O error', [])).toBe(false);
  });

  it('finds the temporal CLI binary', async () => {
    const cli = await findTemporalCli({ install: false });
    expect(path.basename(cli)).toBe('temporal');
  });
});
