/**
 * All configuration, read from the environment once at start-up. `loadConfig` throws a ConfigError
 * whose message is one line naming the setting; callers print it and exit.
 */
import { z } from 'zod';
import type { AwsConfig } from './aws';
import { loadAwsConfig } from './aws';
import type { Env } from './env';
import type { ExtractConfig, ExtractSource } from './extract';
import { loadExtractConfig } from './extract';
import { parseEnv } from './env';
import type { LocalConfig } from './local';
import { loadLocalConfig } from './local';
import type { TemporalConfig } from './temporal';
import { loadTemporalConfig } from './temporal';

export { ConfigError } from './errors';
export type { AwsConfig, ExtractConfig, ExtractSource, LocalConfig, TemporalConfig };

const schema = z.object({
  PIPELINE_BACKEND: z.enum(['local', 'aws'], 'expected local or aws').default('local'),
  PIPELINE_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error'], 'expected trace, debug, info, warn or error').default('info'),
  PIPELINE_METRICS_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:9464')
    .optional(),
});

export type Backend = 'local' | 'aws';

export interface AppConfig {
  backend: Backend;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  metricsAddress?: string;
  temporal: TemporalConfig;
  local: LocalConfig;
  aws?: AwsConfig;
  /** The optional extract stage's source (a PostgreSQL database): the worker's only. */
  extract?: ExtractConfig;
}

export function loadConfig(env: Env = process.env): AppConfig {
  const c = parseEnv(schema, env);
  return {
    backend: c.PIPELINE_BACKEND,
    logLevel: c.PIPELINE_LOG_LEVEL,
    metricsAddress: c.PIPELINE_METRICS_ADDRESS,
    temporal: loadTemporalConfig(env),
    // The local settings are also the aws backend's fallback notifier's (no SNS topic), so they are always read.
    local: loadLocalConfig(env),
    aws: c.PIPELINE_BACKEND === 'aws' ? loadAwsConfig(env) : undefined,
    extract: loadExtractConfig(env),
  };
}
