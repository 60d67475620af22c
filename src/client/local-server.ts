/**
 * The local Temporal dev server of `pipeline server` and `npm run demo`: the cached `temporal` CLI
 * (found or built by src/devtools), the pipeline's search attributes registered, the Web UI, bound
 * to 127.0.0.1, with histories kept in a SQLite file beside the warehouse.
 */
import path from 'node:path';
import type { AppConfig } from '../config';
import { startDevServer } from '../devtools';
import type { DevServerHandle } from '../devtools';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../workflows/definitions';
import { UserError } from './errors';

export const DEFAULT_SERVER_PORT = 7233;
export const DEFAULT_UI_PORT = 8233;

/** `temporal.sqlite` in the warehouse's folder (`./data/` by default). */
export function devServerDbFile(config: AppConfig): string {
  return path.resolve(path.dirname(config.local.warehousePath), 'temporal.sqlite');
}

export interface LocalServerOptions {
  port?: number;
  uiPort?: number;
  /** Default: devServerDbFile(config). */
  dbFile?: string;
}

export async function startLocalDevServer(
  config: AppConfig,
  opts: LocalServerOptions = {},
): Promise<{ server: DevServerHandle; dbFile: string }> {
  const dbFile = opts.dbFile ?? devServerDbFile(config);
  try {
    const server = await startDevServer({
      port: opts.port ?? DEFAULT_SERVER_PORT,
      uiPort: opts.uiPort ?? DEFAULT_UI_PORT,
      dbFile,
      searchAttributes: [...CUSTOM_SEARCH_ATTRIBUTES],
      // A new history file gets its schema on the first start, which on a busy 2-core machine
      // right after the one-time CLI build was seen to take over a minute.
      startTimeoutMs: 180_000,
    });
    return { server, dbFile };
  } catch (err) {
    // One line an operator can act on (the server's own output is part of the message), not a stack.
    throw new UserError(`could not start the Temporal dev server (history in ${dbFile}): ${(err as Error).message}`);
  }
}
