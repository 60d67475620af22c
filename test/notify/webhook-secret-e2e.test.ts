/**
 * End to end on a real dev server: a whole run whose webhook (URL with a planted user:password and
 * ?token=) is at a closed port. The run succeeds, the console and the outbox get the notice, the
 * webhook's failure is in the notify activity's result, and the planted secret is nowhere: not in
 * the worker's log lines, the workflow history (payloads decoded), the status query, the outbox.
 * The worker is in-process, with the real Runtime logger (observability), the real configuration
 * (so its secrets are registered as in `pipeline worker`), the real local notifier, and the fake
 * backend for every other activity.
 */
import fs from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalNotifier } from '../../src/activities/notify/local';
import type { PublishResult } from '../../src/activities/types';
import { loadConfig } from '../../src/config';
import { installRuntime, workerInterceptors } from '../../src/observability';
import { workflowsEntry } from '../../src/worker';
import type { PipelineInput, PipelineResult, PipelineStatus } from '../../src/workflows/definitions';
import { statusQuery } from '../../src/workflows/definitions';
import { FakeBackend } from '../../tools/fake-backend';
import { startTestDevServer } from '../support/temporal/dev-server';

const PASSWORD = 's3cr3tPass';
const TOKEN = 't0ken123';
const DATE = '2025-10-27';

let logText = '';
installRuntime({ logLevel: 'debug', destination: { write: (line: string) => void (logText += line) } });

let server: Awaited<ReturnType<typeof startTestDevServer>>;
let dir: string;

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/**
 * A history as text with every payload decoded (inputs, results, memo, search attributes, failure
 * details: a payload's bytes, base64 in the proto's JSON), so that a secret inside one is found too.
 */
function historyText(history: unknown): string {
  return JSON.stringify(history, (key, value: unknown) => {
    if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
    if (key === 'data' && typeof value === 'string') return Buffer.from(value, 'base64').toString('utf8');
    return value;
  });
}

beforeAll(async () => {
  server = await startTestDevServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'notify-secret-e2e-'));
});

afterAll(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('a webhook with a planted secret at a closed port, end to end', () => {
  it('does not fail the run, and the secret is in no log line, history, status or outbox', async () => {
    const port = await closedPort();
    const webhook = `http://hookuser:${PASSWORD}@127.0.0.1:${port}/hook?token=${TOKEN}`;
    const config = loadConfig({
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: server.namespace,
      PIPELINE_TASK_QUEUE: 'notify-secret-e2e',
      PIPELINE_LAKE_DIR: path.join(dir, 'lake'),
      PIPELINE_WAREHOUSE_PATH: path.join(dir, 'warehouse.duckdb'),
      PIPELINE_OUTBOX_PATH: path.join(dir, 'notifications.jsonl'),
      PIPELINE_WEBHOOK_URL: webhook,
    });
    expect(config.local.webhookUrl).toBe(webhook);
    const consoleLines: string[] = [];
    // Real notifier, default warning sink (the activity's logger); only the waits are short.
    const notifier = createLocalNotifier(config.local, {
      webUiUrl: config.temporal.webUiUrl,
      log: (l) => consoleLines.push(l),
      retry: { initialDelayMs: 50 },
    });
    const activities = { ...new FakeBackend().activities(), publishNotification: notifier.publishNotification };

    const worker = await Worker.create({
      connection: server.nativeConnection,
      namespace: server.namespace,
      taskQueue: config.temporal.taskQueue,
      workflowsPath: workflowsEntry(),
      activities,
      interceptors: workerInterceptors(),
    });
    const fast = { pollInterval: '100 ms', retry: { initialInterval: '10 ms', maximumAttempts: 2 } } as const;
    const input: PipelineInput = {
      runDate: DATE,
      options: {
        stages: {
          awaitRawData: { ...fast, softDeadline: '1 hour' },
          catalog: fast,
          validate: fast,
          transform: fast,
          load: fast,
          verify: fast,
          notify: fast,
        },
        // Should notify fail after all, the run fails within seconds instead of waiting a day for an operator.
        operatorWait: '1 second',
      },
    };
    const workflowId = `notify-secret-${DATE}`;
    let status: PipelineStatus | undefined;
    let result: PipelineResult | undefined;
    await worker.runUntil(async () => {
      const handle = await server.client.workflow.start('dailyPipeline', {
        taskQueue: config.temporal.taskQueue,
        workflowId,
        args: [input],
      });
      result = (await handle.result()) as PipelineResult;
      status = await handle.query(statusQuery);
    });

    expect(result?.state).toBe('succeeded');
    expect(status?.stages.find((s) => s.stage === 'notify')?.state).toBe('succeeded');
    expect(consoleLines).toHaveLength(1);
    const outbox = fs.readFileSync(config.local.outboxPath, 'utf8');
    expect(outbox.trim().split('\n')).toHaveLength(1);

    const history = await server.client.workflow.getHandle(workflowId).fetchHistory();
    const completed = history.events!.filter((e) => e.activityTaskCompletedEventAttributes);
    const published = completed
      .map((e) => historyText(e.activityTaskCompletedEventAttributes!.result))
      .filter((t) => t.includes('messageId'))
      .map((t) => JSON.parse((JSON.parse(t) as { payloads: { data: string }[] }).payloads[0]!.data) as PublishResult);
    expect(published).toHaveLength(1);
    expect(published[0]!.failures).toMatchObject([{ channel: `webhook:127.0.0.1:${port}`, attempts: 3 }]);
    expect(logText).toMatch(new RegExp(`notice channel webhook:127\\.0\\.0\\.1:${port} failed after 3 attempts`));
    expect(logText).toContain(`"workflowId":"${workflowId}"`);

    const places = {
      logs: logText,
      history: historyText(history),
      status: JSON.stringify(status),
      outbox,
      console: consoleLines.join('\n'),
    };
    for (const [where, text] of Object.entries(places)) {
      expect(text, where).not.toContain(PASSWORD);
      expect(text, where).not.toContain(TOKEN);
    }
  });
});
