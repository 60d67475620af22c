/** What the end-to-end tests give a `bin/pipeline` process: its environment and fast poll options. */
import fs from 'node:fs';
import path from 'node:path';

interface ServerAddress {
  address: string;
  namespace: string;
}

/** The test's environment without colour, pointed at the server and a lake/warehouse under `dir`. */
export function pipelineCliEnv(server: ServerAddress, dir: string, taskQueue: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const inherited = { ...process.env };
  // picocolors colours on any FORCE_COLOR value: NO_COLOR alone keeps the output plain.
  delete inherited.FORCE_COLOR;
  return {
    ...inherited,
    NO_COLOR: '1',
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: server.namespace,
    PIPELINE_TASK_QUEUE: taskQueue,
    PIPELINE_LAKE_DIR: path.join(dir, 'lake'),
    PIPELINE_WAREHOUSE_PATH: path.join(dir, 'warehouse.duckdb'),
    PIPELINE_OUTBOX_PATH: path.join(dir, 'notifications.jsonl'),
    ...extra,
  };
}

/** Writes `dir/fast.json`, run options that poll local jobs every 200 ms; returns its path. */
export function writeFastOptions(dir: string): string {
  const fast = { pollInterval: '200 ms' };
  const file = path.join(dir, 'fast.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      stages: { awaitRawData: { pollInterval: '1 second' }, catalog: fast, validate: fast, transform: fast, load: fast, verify: fast },
    }),
  );
  return file;
}
