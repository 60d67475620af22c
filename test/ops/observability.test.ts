/**
 * Logs and metrics of a real worker on the dev server: every log line is JSON and carries the run's
 * workflowId, runDate and stage; workflow lines are not repeated when the workflow replays; the
 * Prometheus endpoint serves the SDK's metrics.
 */
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { freePort } from '../../src/devtools';
import { installRuntime, workerInterceptors, workflowInterceptorModules } from '../../src/observability';
import type { InstalledRuntime } from '../../src/observability';
import { createPipelineWorker } from '../../src/worker';
import type { PipelineResult } from '../../src/workflows/definitions';
import { FakeBackend } from '../../tools/fake-backend';
import { startTestDevServer } from '../support/temporal/dev-server';
import type { TestDevServer } from '../support/temporal/dev-server';

const RUN_DATE = '2025-10-27';
const WORKFLOW_ID = `obs-${RUN_DATE}`;

type Line = Record<string, unknown>;
const raw: string[] = [];
let installed: InstalledRuntime;
let server: TestDevServer;
let lines: Line[];

beforeAll(async () => {
  // The runtime must exist before the first connection: it is installed first.
  const metricsAddress = `127.0.0.1:${await freePort()}`;
  installed = installRuntime({ logLevel: 'debug', metricsAddress, destination: { write: (s: string) => void raw.push(s) } });
  server = await startTestDevServer();
  const config = loadConfig({ TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace, PIPELINE_TASK_QUEUE: 'ops-obs' });
  const bundle = await bundleWorkflowCode({
    workflowsPath: path.join(__dirname, 'support', 'workflows-with-probe.ts'),
    workflowInterceptorModules: workflowInterceptorModules(),
    logger: installed.runtime.logger,
  });
  const { worker } = await createPipelineWorker({
    config,
    connection: server.nativeConnection,
    activities: new FakeBackend({ jobs: { etl: [{ runningReads: 1 }] } }).activities(),
    workflowBundle: bundle,
    // No workflow cache: every workflow task replays the history from the start.
    overrides: { interceptors: workerInterceptors({ prebuiltBundle: true }), maxCachedWorkflows: 0 },
  });
  await worker.runUntil(async () => {
    const result = (await server.client.workflow.execute('dailyPipeline', {
      taskQueue: 'ops-obs',
      workflowId: WORKFLOW_ID,
      args: [{ runDate: RUN_DATE, options: { stages: { transform: { pollInterval: '100 ms' } } } }],
    })) as PipelineResult;
    expect(result.state).toBe('succeeded');
    await server.client.workflow.execute('loggingProbe', { taskQueue: 'ops-obs', workflowId: 'obs-probe', args: ['2025-10-28'] });
  });
  lines = raw
    .join('')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
});

afterAll(async () => {
  await server?.stop();
});

const ofRun = (l: Line) => l.workflowId === WORKFLOW_ID;

describe('structured logs and metrics', () => {
  it('writes one JSON object per line with an ISO time, a level name and the service', () => {
    expect(lines.length).toBeGreaterThan(20);
    for (const l of lines) {
      expect(typeof l.msg).toBe('string');
      expect(l.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(['trace', 'debug', 'info', 'warn', 'error']).toContain(l.level);
      expect(l.service).toBe('ecommerce-pipeline');
    }
  });

  it('workflow lines carry workflowId, runDate and stage, also when the workflow code did not pass them', () => {
    const started = lines.filter((l) => ofRun(l) && l.sdkComponent === 'workflow' && l.msg === 'stage transform started');
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ runDate: RUN_DATE, stage: 'transform', workflowType: 'dailyPipeline' });
    // The probe passes no fields: the workflow interceptor adds them from the search attributes.
    const probe = lines.filter((l) => l.workflowId === 'obs-probe' && l.sdkComponent === 'workflow');
    expect(probe.map((l) => l.msg)).toEqual(['probe: before the run date is known', 'probe: after']);
    expect(probe[0]!.runDate).toBeUndefined();
    expect(probe[1]).toMatchObject({ runDate: '2025-10-28', stage: 'load', workflowType: 'loggingProbe' });
  });

  it('does not repeat workflow lines when the workflow replays', () => {
    for (const stage of ['awaitRawData', 'catalog', 'validate', 'transform', 'load', 'verify', 'notify']) {
      expect(
        lines.filter((l) => ofRun(l) && l.msg === `stage ${stage} started`),
        stage,
      ).toHaveLength(1);
    }
  });

  it('activity lines carry workflowId, runDate, stage and stage attempt', () => {
    // The SDK writes "Activity started" before any interceptor sees the input; every later line has the fields.
    const etl = lines.filter((l) => ofRun(l) && l.activityType === 'getEtlRunState' && l.msg !== 'Activity started');
    expect(etl.length).toBeGreaterThanOrEqual(2);
    for (const l of etl) {
      expect(l).toMatchObject({ runDate: RUN_DATE, stage: 'transform', stageAttempt: 1, workflowType: 'dailyPipeline' });
      expect(l.taskToken).toBeUndefined();
    }
    const notify = lines.find((l) => ofRun(l) && l.activityType === 'publishNotification' && l.msg === 'Activity completed');
    expect(notify).toMatchObject({ runDate: RUN_DATE, stage: 'notify' });
  });

  it('serves the SDK metrics for Prometheus', async () => {
    const res = await fetch(installed.metricsUrl!);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^temporal_workflow_completed\{[^}]*task_queue="ops-obs"[^}]*\} [1-9]/m);
    // Stage calls are local activities, the notice a regular one: each kind has its latency histogram.
    expect(text).toMatch(/temporal_local_activity_execution_latency\w*\{[^}]*activity_type="startEtlRun"/);
    expect(text).toMatch(/temporal_activity_execution_latency\w*\{[^}]*activity_type="publishNotification"/);
    expect(text).toMatch(/service="ecommerce-pipeline"/);
  });
});
