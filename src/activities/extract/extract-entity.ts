/**
 * One entity's extract, whichever backend publishes it: find the entity's source, stream its rows
 * into a gzip CSV file the sensor cannot see, then hand the finished file to the backend to publish
 * in one step (a rename on the lake folder, a single PUT on S3), so the partition holds the old
 * extract or the new one, never half a file. A rerun of the date replaces the extract it wrote.
 */
import { asyncLocalStorage } from '@temporalio/activity';
import type { ExtractConfig } from '../../config';
import type { Entity } from '../../shared/contract';
import { rawPartitionPrefix } from '../../shared/contract';
import { badConfig } from '../errors';
import type { ExtractEntityInput, ExtractEntityResult } from '../types';
import { extractFailure } from './failures';
import { extractToGzipCsv, NoColumnsError } from './gzip-csv';
import { sourceLabel, sourceStatement } from './source';

/** The extract's own file in a partition: the only file a rerun of extract replaces there. */
export function extractFileName(entity: Entity): string {
  return `extract-${entity}.csv.gz`;
}

/** Lake-relative key of an entity's extract for a date: raw/orders/2025-10-27/extract-orders.csv.gz. */
export function extractKey(entity: Entity, runDate: string): string {
  return `${rawPartitionPrefix(entity, runDate)}${extractFileName(entity)}`;
}

/** How a backend makes a finished file visible: it returns the lake-relative key it published. */
export interface ExtractPublisher {
  /** A fresh path for the gzip bytes while they are written, outside every raw partition. */
  scratchFile(entity: Entity, runDate: string): Promise<string>;
  publish(scratch: string, entity: Entity, runDate: string): Promise<string>;
  discard(scratch: string): Promise<void>;
}

/** How often a running extract heartbeats even when no batch arrives (a query still sorting before its first row). */
const HEARTBEAT_MS = 10_000;

/**
 * Heartbeats (rows so far, seen in the Web UI's pending activity) and the cancellation signal inside
 * an activity; nothing when a test calls directly. `stop` ends the timer.
 */
function activityHooks(): { onRows?: (rows: number) => void; signal?: AbortSignal; stop: () => void } {
  const ctx = asyncLocalStorage.getStore();
  if (!ctx || ctx.info.isLocal) return { stop: () => undefined };
  let rows = 0;
  const beat = () => ctx.heartbeat({ rows });
  const timer = setInterval(beat, HEARTBEAT_MS);
  beat();
  return {
    onRows: (n) => {
      rows = n;
      beat();
    },
    signal: ctx.cancellationSignal,
    stop: () => clearInterval(timer),
  };
}

export async function extractEntity(
  config: ExtractConfig | undefined,
  { run, entity }: ExtractEntityInput,
  publisher: ExtractPublisher,
): Promise<ExtractEntityResult> {
  if (!config)
    throw badConfig(
      'extract is on for this run, but this worker has no PIPELINE_EXTRACT_DATABASE_URL and PIPELINE_EXTRACT_CONFIG; ' +
        `set them and restart the worker, or skip the stage (\`pipeline skip extract ${run.runDate}\`)`,
    );
  const source = config.sources.find((s) => s.entity === entity);
  if (!source) return { entity, extracted: false, reason: `no table or query for ${entity} in ${config.configFile}` };
  const label = sourceLabel(source);
  const scratch = await publisher.scratchFile(entity, run.runDate);
  const hooks = activityHooks();
  try {
    const written = await extractToGzipCsv(config.databaseUrl, sourceStatement(source, run.runDate), scratch, hooks);
    const key = await publisher.publish(scratch, entity, run.runDate);
    return { entity, extracted: true, source: label, key, rows: written.rows, bytes: written.bytes, columns: written.columns };
  } catch (err) {
    await publisher.discard(scratch);
    if (err instanceof NoColumnsError) throw badConfig(`extract ${entity}: ${err.message} (${label})`);
    throw extractFailure(err, `extract ${entity}`, label);
  } finally {
    hooks.stop();
  }
}
