/** The demo's two touch points with the local data: making a day of raw files and reading tables. */
import type { AppConfig } from '../config';

export async function generateRawData(_config: AppConfig, _date: string): Promise<void> {
  throw new Error('not implemented');
}

/** Rows of a read-only query as a printable table, or undefined when the warehouse is not there. */
export async function readWarehouseRows(_config: AppConfig, _sql: string, _activities?: unknown): Promise<string | undefined> {
  throw new Error('not implemented');
}
