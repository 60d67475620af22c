/**
 * A `pipeline worker` for the crash test (test/e2e/crash.test.ts) that freezes in one job.
 *
 *   node --require tsx/cjs test/support/holding-worker.ts <kind>[:<operation>] <marker file>
 *
 * It starts like `pipeline worker` (src/client/commands/worker.ts: the configuration from the
 * environment, the same runtime, connection and start-up line) with the local backend, whose
 * `onJobProgress` freezes the whole process at the matching job's first progress report of at least
 * 0.4, after writing the marker file ({ id, pid, progress }). `kind` is the job's kind (`etl`,
 * `statement`), `operation` optionally the operation recorded with it (`load`). A stage on test data ends in
 * well under a second, so this is how the test SIGKILLs a worker *during* one: the transform part-way
 * through its tables, the load inside its open transaction with the customers already merged. It
 * blocks synchronously because progress is reported between statements, so nothing of the job moves
 * on until the test kills the process.
 */
import fs from 'node:fs';
import type { JobKind, JobProgressListener } from '../../src/activities/local';
import { createLocalActivities } from '../../src/activities/local';
import { connectWorkerConnection } from '../../src/client/connection';
import { loadConfig } from '../../src/config';
import { installRuntime } from '../../src/observability';
import { createPipelineWorker } from '../../src/worker';

/** The progress at which the held job freezes. */
export const HOLD_AT_PROGRESS = 0.4;

export interface HoldSpec {
  kind: JobKind;
  operation?: string;
  marker: string;
}

export function parseHoldArgs(args: readonly string[]): HoldSpec {
  const [job, marker] = args;
  if (!job || !marker) throw new Error('usage: holding-worker.ts <kind>[:<operation>] <marker file>');
  const [kind, operation] = job.split(':') as [JobKind, string | undefined];
  return { kind, operation, marker };
}

/** Freezes the process (after writing the marker) in the first matching job at HOLD_AT_PROGRESS. */
export function freezeAt(hold: HoldSpec): JobProgressListener {
  return (job, progress) => {
    if (progress < HOLD_AT_PROGRESS || job.kind !== hold.kind || (hold.operation && job.operation !== hold.operation)) return;
    fs.writeFileSync(`${hold.marker}.tmp`, JSON.stringify({ id: job.id, pid: process.pid, progress }));
    fs.renameSync(`${hold.marker}.tmp`, hold.marker);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  };
}

async function main(): Promise<void> {
  const hold = parseHoldArgs(process.argv.slice(2));
  const config = loadConfig();
  if (config.backend !== 'local') throw new Error(`the holding worker runs the local backend only, not ${config.backend}`);
  const { metricsUrl } = installRuntime({ logLevel: config.logLevel, metricsAddress: config.metricsAddress });
  if (metricsUrl) console.log(`metrics: ${metricsUrl}`);
  const connection = await connectWorkerConnection(config.temporal);
  try {
    const activities = createLocalActivities(config.local, { webUiUrl: config.temporal.webUiUrl, onJobProgress: freezeAt(hold) });
    const { run } = await createPipelineWorker({ config, connection, activities });
    console.log(
      `worker: backend ${config.backend}, task queue ${config.temporal.taskQueue}, Temporal ${config.temporal.address} namespace ${config.temporal.namespace} (holding ${hold.kind}${hold.operation ? `:${hold.operation}` : ''})`,
    );
    await run();
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  });
}
