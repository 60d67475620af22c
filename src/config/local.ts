import path from 'node:path';
import { z } from 'zod';
import type { Env } from './env';
import { parseEnv } from './env';

const schema = z.object({
  PIPELINE_LAKE_DIR: z.string().default('./data/lake'),
  PIPELINE_WAREHOUSE_PATH: z.string().default('./data/warehouse.duckdb'),
  PIPELINE_OUTBOX_PATH: z.string().default('./data/notifications.jsonl'),
  // Only http and https: `htps://...` or `ftp://...` is a typo, not a channel. An error shows the
  // scheme and host only (config/env.ts, shared/redact.ts), never the credentials, path or query.
  PIPELINE_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).optional(),
  PIPELINE_DUCKDB_THREADS: z.coerce.number().int().positive('a whole number of threads > 0').optional(),
  PIPELINE_DUCKDB_MEMORY_LIMIT: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$/i, 'a size such as 1GB')
    .default('1GB'),
});

export interface LocalConfig {
  lakeDir: string; // absolute
  warehousePath: string; // absolute
  outboxPath: string; // absolute
  webhookUrl?: string;
  duckdbThreads?: number;
  duckdbMemoryLimit: string;
}

export function loadLocalConfig(env: Env, cwd = process.cwd()): LocalConfig {
  const c = parseEnv(schema, env);
  return {
    lakeDir: path.resolve(cwd, c.PIPELINE_LAKE_DIR),
    warehousePath: path.resolve(cwd, c.PIPELINE_WAREHOUSE_PATH),
    outboxPath: path.resolve(cwd, c.PIPELINE_OUTBOX_PATH),
    webhookUrl: c.PIPELINE_WEBHOOK_URL,
    duckdbThreads: c.PIPELINE_DUCKDB_THREADS,
    duckdbMemoryLimit: c.PIPELINE_DUCKDB_MEMORY_LIMIT,
  };
}
