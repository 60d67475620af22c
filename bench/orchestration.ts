/**
 * npm run bench:orchestration — the workflow's own overhead: 20 full pipelines whose stages finish
 * at once, on the Temporal dev server. Prints the median and p95 wall time per run and the history
 * events per run (parent, and sensor child when one was started). Targets: <= 1 s and <= 200 events per run.
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { startDevServer } from '../src/devtools';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../src/workflows/definitions';
import type { PipelineResult } from '../src/workflows/definitions';
import { workflowsEntry } from '../src/worker';
import { FakeBackend } from '../tools/fake-backend';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function main(): Promise<void> {
  // Per-stage info lines would be measured too; a production worker logs JSON at info, asynchronously.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const existing = process.env.BENCH_TEMPORAL_ADDRESS;
  if (!existing) console.log('starting the Temporal dev server...');
  const server = existing
    ? { address: existing, namespace: 'default', stop: async () => undefined }
    : await startDevServer({ searchAttributes: [...CUSTOM_SEARCH_ATTRIBUTES] });
  const connection = await Connection.connect({ address: server.address });
  const native = await NativeConnection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  const taskQueue = 'bench-orchestration';
  const worker = await Worker.create({
    connection: native,
    namespace: server.namespace,
    taskQueue,
    workflowsPath: workflowsEntry(),
    activities: new FakeBackend().activities(),
  });
  const walls: number[] = [];
  const events: number[] = [];
  try {
    await worker.runUntil(async () => {
      for (let i = 0; i < RUNS + 1; i++) {
        const runDate = `2025-01-${String(1 + (i % 28)).padStart(2, '0')}`;
        const workflowId = `bench-${process.pid}-${i}-${runDate}`;
        const started = performance.now();
        const handle = await client.workflow.start('dailyPipeline', { taskQueue, workflowId, args: [{ runDate }] });
        await handle.result();
        const wall = performance.now() - started;
        const parent = (await handle.fetchHistory()).events?.length ?? 0;
        // The sensor child exists only when the run's own first look found a partition empty.
        const result = (await handle.result()) as PipelineResult;
        const sensorId = result.stages.find((s) => s.stage === 'awaitRawData')?.externalIds.sensorWorkflowId;
        const child = sensorId ? ((await client.workflow.getHandle(sensorId).fetchHistory()).events?.length ?? 0) : 0;
        // The first run warms the workflow bundle's isolate and is not counted.
        if (i === 0) continue;
        walls.push(wall);
        events.push(parent + child);
        // A terminal gets one line rewritten in place; a log file gets a line per run.
        process.stdout.write(`run ${i}/${RUNS}: ${wall.toFixed(0)} ms, ${parent} + ${child} events${process.stdout.isTTY ? '\r' : '\n'}`);
      }
    });
  } finally {
    await native.close();
    await connection.close();
    await server.stop();
  }
  walls.sort((a, b) => a - b);
  events.sort((a, b) => a - b);
  if (process.stdout.isTTY) console.log('');
  console.log(`runs:                     ${RUNS}`);
  console.log(`median wall time per run: ${quantile(walls, 0.5).toFixed(0)} ms   (target <= 1000 ms)`);
  console.log(`p95 wall time per run:    ${quantile(walls, 0.95).toFixed(0)} ms`);
  console.log(
    `history events per run:   median ${quantile(events, 0.5)}, max ${events[events.length - 1]}   (target <= 200; parent + sensor child)`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
