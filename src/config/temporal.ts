import { z } from 'zod';
import type { Env } from './env';
import { parseEnv } from './env';

const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:7233');
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const schema = z
  .object({
    TEMPORAL_ADDRESS: hostPort.default('127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: z.string().default('default'),
    TEMPORAL_API_KEY: z.string().optional(),
    TEMPORAL_TLS: bool.optional(),
    TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().optional(),
    TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().optional(),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().optional(),
    TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
    PIPELINE_TASK_QUEUE: z
      .string()
      .regex(/^[\w.-]+$/, 'letters, digits, dot, dash or underscore')
      .default('ecommerce-pipeline'),
    PIPELINE_WEB_UI_URL: z.url('expected a URL such as http://127.0.0.1:8233').default('http://127.0.0.1:8233'),
  })
  .refine((c) => !c.TEMPORAL_TLS_CLIENT_CERT_PATH === !c.TEMPORAL_TLS_CLIENT_KEY_PATH, {
    path: ['TEMPORAL_TLS_CLIENT_KEY_PATH'],
    message: 'TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together',
  });

export interface TemporalConfig {
  address: string;
  namespace: string;
  apiKey?: string;
  tls?: { clientCertPath?: string; clientKeyPath?: string; serverCaCertPath?: string; serverName?: string };
  taskQueue: string;
  webUiUrl: string;
}

export function loadTemporalConfig(env: Env): TemporalConfig {
  const c = parseEnv(schema, env);
  const wantsTls = c.TEMPORAL_TLS ?? Boolean(c.TEMPORAL_TLS_CLIENT_CERT_PATH || c.TEMPORAL_API_KEY || c.TEMPORAL_TLS_SERVER_CA_CERT_PATH);
  return {
    address: c.TEMPORAL_ADDRESS,
    namespace: c.TEMPORAL_NAMESPACE,
    apiKey: c.TEMPORAL_API_KEY,
    tls: wantsTls
      ? {
          clientCertPath: c.TEMPORAL_TLS_CLIENT_CERT_PATH,
          clientKeyPath: c.TEMPORAL_TLS_CLIENT_KEY_PATH,
          serverCaCertPath: c.TEMPORAL_TLS_SERVER_CA_CERT_PATH,
          serverName: c.TEMPORAL_TLS_SERVER_NAME,
        }
      : undefined,
    taskQueue: c.PIPELINE_TASK_QUEUE,
    webUiUrl: c.PIPELINE_WEB_UI_URL.replace(/\/+$/, ''),
  };
}
