/**
 * `npm run demo`: a whole day on the local backend from a fresh clone. Starts (or reuses) a Temporal
 * dev server with its Web UI, runs a worker in this process, generates a day of data when the lake
 * has none, runs the pipeline showing each stage, and ends with a summary and the Web UI link.
 */
import fs from 'node:fs';
import path from 'node:path';
import Table from 'cli-table3';
import pc from 'picocolors';
import type { AppConfig } from '../config';
import { loadConfig } from '../config';
import { isServerUp } from '../devtools';
import { installRuntime } from '../observability';
import type { DevServerHandle } from '../devtools';
import { ENTITIES, rawPartitionPrefix } from '../shared/contract';
import type { DeepPartial, PipelineOptions, PipelineStatus } from '../workflows/definitions';
import { createPipelineWorker } from '../worker';
import { connectClient, connectWorkerConnection } from './connection';
import { UserError } from './errors';
import { formatDuration, plainUnlessTty, statusTable } from './format';
import { startRun } from './runs';
import { watchRun } from './watch';
import type { WatchOutcome } from './watch';
import { generateRawData, readWarehouseRows } from './demo-data';
import { startLocalDevServer } from './local-server';

export interface DemoOptions {
  date?: string;
  keepRunning?: boolean;
  port?: number;
  uiPort?: number;
}

/** The demo's data is small: poll often so the stages show up as they happen. */
const DEMO_OPTIONS: DeepPartial<PipelineOptions> = {
  stages: {
    awaitRawData: { pollInterval: '2 seconds', timeout: '5 minutes', softDeadline: '1 minute' },
    catalog: { pollInterval: '250 ms' },
    validate: { pollInterval: '250 ms' },
    transform: { pollInterval: '250 ms' },
    load: { pollInterval: '250 ms' },
    verify: { pollInterval: '250 ms' },
  },
  operatorWait: '1 hour',
};

function yesterdayUtc(): string {
  return new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
}

function lakeHasDate(config: AppConfig, date: string): boolean {
  return ENTITIES.every((e) => {
    const dir = path.join(config.local.lakeDir, rawPartitionPrefix(e, date));
    return fs.existsSync(dir) && fs.readdirSync(dir).length > 0;
  });
}

function step(text: string): void {
  console.log(pc.bold(`\n${text}`));
}

async function ensureServer(config: AppConfig, opts: DemoOptions): Promise<{ address: string; uiUrl: string; server?: DevServerHandle }> {
  if (await isServerUp(config.temporal.address)) {
    console.log(`using the Temporal server already at ${config.temporal.address}`);
    return { address: config.temporal.address, uiUrl: config.temporal.webUiUrl };
  }
  console.log('starting the Temporal dev server (the first time, this may build the temporal CLI with Go: a few minutes)...');
  const { server } = await startLocalDevServer(config, { port: opts.port, uiPort: opts.uiPort });
  console.log(`Temporal dev server at ${server.address}, Web UI ${server.uiUrl}`);
  return { address: server.address, uiUrl: server.uiUrl, server };
}

async function stopWorker(w: { worker: { getState(): string; shutdown(): void }; done: Promise<void> }): Promise<void> {
  if (w.worker.getState() === 'RUNNING') w.worker.shutdown();
  await w.done;
}

function rowsTable(status: PipelineStatus): string {
  const m = status.stages.find((s) => s.stage === 'transform')?.metrics ?? {};
  const t = new Table({ head: ['entity', 'read', 'loaded', 'rejected', 'exact duplicates'], style: plainUnlessTty() });
  for (const e of ENTITIES) t.push([e, ...['read', 'loaded', 'rejected', 'duplicates'].map((k) => String(m[`${e}.${k}`] ?? '-'))]);
  return t.toString();
}

export async function runDemo(opts: DemoOptions): Promise<void> {
  const base = loadConfig();
  if (base.backend !== 'local') throw new UserError('the demo runs the local backend; unset PIPELINE_BACKEND or set it to local');
  const date = opts.date ?? yesterdayUtc();
  step('1. Temporal');
  const { address, uiUrl, server } = await ensureServer(base, opts);
  const config: AppConfig = { ...base, temporal: { ...base.temporal, address, webUiUrl: uiUrl } };

  step(`2. Raw data for ${date}`);
  if (lakeHasDate(config, date)) {
    console.log(`the lake already has raw/{customers,products,orders}/${date}/ under ${config.local.lakeDir}`);
  } else {
    await generateRawData(config, date);
  }

  step('3. Worker');
  // The demo prints its own progress; the worker's JSON log lines only when something goes wrong.
  // Installed only now: a runtime with nothing to shut it down would keep a failed demo from exiting.
  installRuntime({ logLevel: process.env.PIPELINE_LOG_LEVEL ? base.logLevel : 'warn', destination: process.stderr });
  const connection = await connectWorkerConnection(config.temporal);
  const startWorker = async () => {
    const w = await createPipelineWorker({ config, connection });
    return { ...w, done: w.run() };
  };
  let pipelineWorker = await startWorker();
  console.log(`worker polling task queue ${config.temporal.taskQueue} (backend local, warehouse ${config.local.warehousePath})`);

  let failed: string | undefined;
  try {
    step(`4. Pipeline run for ${date}`);
    const client = await connectClient(config.temporal);
    const handle = await startRun(client, config.temporal.taskQueue, { runDate: date, trigger: 'manual', options: DEMO_OPTIONS });
    const link = `${uiUrl}/namespaces/${config.temporal.namespace}/workflows/${handle.workflowId}/${handle.firstExecutionRunId}/history`;
    console.log(`workflow ${handle.workflowId}; follow it in the Web UI: ${link}`);
    const started = Date.now();
    // Ctrl-C stops the worker (the SDK handles SIGINT/SIGTERM); then stop watching and clean up.
    const outcome: WatchOutcome = await Promise.race([
      watchRun(handle),
      pipelineWorker.done.then((): WatchOutcome => ({ ok: false, error: 'interrupted: the worker stopped before the run ended' })),
    ]);
    if (!outcome.ok) failed = outcome.error;
    await client.connection.close();

    step('5. Summary');
    if (outcome.status) {
      console.log(statusTable(outcome.status));
      console.log('Rows per entity:');
      console.log(rowsTable(outcome.status));
    }
    // The warehouse file has one writer: the worker lets go of it while the summary reads it.
    await stopWorker(pipelineWorker);
    if (fs.existsSync(config.local.warehousePath)) {
      console.log('First rows of analytics.agg_daily_sales:');
      console.log(await readWarehouseRows(config, 'SELECT * FROM analytics.agg_daily_sales ORDER BY order_date DESC LIMIT 5'));
    }
    console.log(
      `\nrun ${failed ? pc.red('did not succeed') : pc.green('succeeded')} in ${formatDuration(Date.now() - started)}; Web UI: ${link}`,
    );
    console.log('explore the warehouse: ./bin/pipeline query "SELECT * FROM analytics.fact_orders LIMIT 10"');
    if (opts.keepRunning) {
      pipelineWorker = await startWorker();
      console.log(pc.bold('\nserver and worker keep running (Ctrl-C stops them); try: ./bin/pipeline status ' + date));
      await pipelineWorker.done;
    }
  } finally {
    await stopWorker(pipelineWorker);
    await connection.close();
    await server?.stop();
  }
  if (failed) throw new UserError(`the demo run did not succeed: ${failed}`);
}
