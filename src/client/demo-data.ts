/** The demo's two touch points with the local data: making a day of raw files and reading tables. */
import type { AppConfig } from '../config';
import { generateLake } from '../generate';
import { formatGenerateSummary } from './commands/generate';

export async function generateRawData(config: AppConfig, date: string): Promise<void> {
  const started = Date.now();
  // --dirty so that the demo shows rejects with their reasons, as a real day would.
  const result = await generateLake({ lakeDir: config.local.lakeDir, startDate: date, scale: 'small', dirty: true, existing: 'skip' });
  console.log(formatGenerateSummary(result, config.local.lakeDir, Date.now() - started));
}

/** Rows of a read-only query as a printable table, or undefined when the warehouse is not there. */
export async function readWarehouseRows(_config: AppConfig, _sql: string, _activities?: unknown): Promise<string | undefined> {
  throw new Error('not implemented');
}
