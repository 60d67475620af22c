/**
 * The batch manifest: what the transform stage published for one date (its run, counts and batch
 * folders), written last by the transform as `processed/_metrics/batch_date=D/metrics.json` and read
 * by the load to know which run produced the batch's Parquet. Shared by both stages, so neither
 * imports the other's helpers; the gold table names are the folders both of them use.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Lake } from './lake';

export const GOLD_TABLES = { customers: 'dim_customers', products: 'dim_products', orders: 'fact_orders' } as const;

export interface TransformOutput {
  runDate: string;
  etlRunId: string;
  metrics: Record<string, number>;
  /** Published batch folders, by `${layer}/${table}`. */
  folders: Record<string, string>;
  startedAt: string;
  finishedAt: string;
}

export function manifestPath(lake: Lake, runDate: string): string {
  return path.join(lake.root, 'processed', '_metrics', `batch_date=${runDate}`, 'metrics.json');
}

export function writeBatchManifest(lake: Lake, output: TransformOutput): void {
  const file = manifestPath(lake, output.runDate);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(output, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

/** The manifest of the batch's published Parquet, or undefined when no transform finished for it. */
export function readBatchManifest(lake: Lake, runDate: string): TransformOutput | undefined {
  try {
    return JSON.parse(fs.readFileSync(manifestPath(lake, runDate), 'utf8')) as TransformOutput;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
