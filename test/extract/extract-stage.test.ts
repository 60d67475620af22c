/**
 * The extract stage's workflow side on the time-skipping test server with the scripted backend:
 * every entity is tried before the stage fails, the failure waits for an operator in one line per
 * entity, `rerunStage('extract')` extracts again, and an entity without a source is named.
 */
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineResult, PipelineStatus } from '../../src/workflows/definitions';
import { rerunStageSignal, statusQuery } from '../../src/workflows/definitions';
import { FakeBackend } from '../../tools/fake-backend';
import { registerPipelineSearchAttributes } from '../support/search-attributes';
import { createTimeSkippingEnv } from '../support/temporal/time-skipping';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

const noop = () => undefined;
const logger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  env = await createTimeSkippingEnv();
  await registerPipelineSearchAttributes(env);
  bundle = await bundleWorkflowCode({ workflowsPath: path.resolve(__dirname, '../../src/workflows/index.ts'), logger });
}, 120_000);

afterAll(async () => {
  await env?.teardown();
});

const quickRetry = { initialInterval: '10 ms', maximumAttempts: 2 } as const;
const OPTIONS = {
  stages: {
    extract: { enabled: true, retry: quickRetry },
    awaitRawData: { pollInterval: '1 minute', retry: quickRetry },
    notify: { retry: quickRetry },
  },
  operatorWait: '2 hours',
};

async function waitForStatus(id: string, pred: (s: PipelineStatus) => boolean): Promise<PipelineStatus> {
  const deadline = Date.now() + 60_000;
  let last: PipelineStatus | undefined;
  while (Date.now() < deadline) {
    last = await env.client.workflow
      .getHandle(id)
      .query(statusQuery)
      .catch(() => undefined);
    if (last && pred(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out; last status: ${JSON.stringify(last)}`);
}

describe('the extract stage in the workflow', () => {
  it('tries every entity, waits for an operator on a failure, and extracts again on rerunStage(extract)', async () => {
    const backend = new FakeBackend({
      extract: (entity, call) => {
        if (entity === 'customers' && call === 1)
          throw ApplicationFailure.nonRetryable(
            'extract customers: relation "public.custmers" does not exist (table public.custmers)',
            'MissingResource',
          );
        if (entity === 'products') return { entity, extracted: false, reason: 'no table or query for products in extract.json' };
        return {
          entity,
          extracted: true,
          source: `table shop.${entity}`,
          key: `raw/${entity}/2025-10-27/extract-${entity}.csv.gz`,
          rows: 7,
          bytes: 99,
          columns: [],
        };
      },
    });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'extract-stage',
      workflowBundle: bundle,
      activities: backend.activities(),
    });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('dailyPipeline', {
        taskQueue: 'extract-stage',
        workflowId: 'extract-stage-rerun',
        args: [{ runDate: '2025-10-27', options: OPTIONS }],
      });
      const waiting = await waitForStatus(handle.workflowId, (s) => s.state === 'awaiting_operator');
      const failed = waiting.stages.find((s) => s.stage === 'extract')!;
      expect(failed.state).toBe('failed');
      expect(failed.message).toBe('extract customers: relation "public.custmers" does not exist (table public.custmers)');
      // The failure did not stop the other entities; nothing after extract has run.
      expect(backend.calls.filter((c) => c.name === 'extractEntity')).toHaveLength(3);
      expect(backend.count('listRawPartition')).toBe(0);
      await handle.signal(rerunStageSignal, 'extract', 'fixed the table name');
      const result = (await handle.result()) as PipelineResult;
      expect(result.state).toBe('succeeded');
      const extract = result.stages.find((s) => s.stage === 'extract')!;
      expect(extract).toMatchObject({ state: 'succeeded', attempts: 2 });
      expect(extract.metrics).toEqual({ 'customers.rows': 7, 'customers.bytes': 99, 'orders.rows': 7, 'orders.bytes': 99 });
      expect(extract.externalIds).toEqual({
        customers: 'raw/customers/2025-10-27/extract-customers.csv.gz',
        orders: 'raw/orders/2025-10-27/extract-orders.csv.gz',
      });
      expect(extract.message).toBe('not extracted: no table or query for products in extract.json');
      // The failure (named by entity and table) was announced once.
      expect(backend.notices.map((n) => n.kind)).toEqual(['stage_failed', 'succeeded']);
      expect(backend.notices[0]!.text).toContain('relation "public.custmers" does not exist');
    });
    expect(backend.count('extractEntity')).toBe(6);
  });

  it('extracts on a run started from extract (what `pipeline rerun extract` on a finished run starts), options or not', async () => {
    const backend = new FakeBackend();
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'extract-from',
      workflowBundle: bundle,
      activities: backend.activities(),
    });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('dailyPipeline', {
        taskQueue: 'extract-from',
        workflowId: 'extract-stage-from',
        args: [{ runDate: '2025-10-28', trigger: 'rerun', startFrom: 'extract', reason: 'redo the day' }],
      });
      const result = (await handle.result()) as PipelineResult;
      expect(result.stages.find((s) => s.stage === 'extract')).toMatchObject({ state: 'succeeded', attempts: 1 });
    });
    expect(backend.count('extractEntity')).toBe(3);
  });
});
