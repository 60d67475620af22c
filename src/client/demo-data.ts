/** The demo's two touch points with the local data: making a day of raw files and reading tables. */
import type { AppConfig } from '../config';
import { generateLake } from '../generate';
import { formatGenerateSummary } from './commands/generate';
import { queryWarehouse, renderTable } from './commands/query';

export async function generateRawData(config: AppConfig, date: string): Promise<void> {
  const started = Date.now();
  // --dirty so that the demo shows rejects with their reasons, as a real day would.
  const result = await generateLake({ lakeDir: config.local.lakeDir, startDate: date, scale: 'small', dirty: true, existing: 'skip' });
  console.log(formatGenerateSummary(result, config.local.lakeDir, Date.now() - started));
}

/** Rows of a read-only query as a printable table (the warehouse must not be open in this process). */
export async function readWarehouseRows(config: AppConfig, sql: string): Promise<string> {
  return renderTable(await queryWarehouse(config.local.warehousePath, sql, { maxRows: 20 }));
}
