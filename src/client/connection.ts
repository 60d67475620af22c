/** Connects to Temporal with the validated configuration, with an error that says what to do. */
import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { ConnectionOptions } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { TemporalConfig } from '../config';
import { UserError } from './errors';

function readFileSetting(setting: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new UserError(`configuration error: ${setting}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 2);
  }
}

export function connectionOptions(config: TemporalConfig): ConnectionOptions {
  const tls = config.tls
    ? {
        serverNameOverride: config.tls.serverName,
        serverRootCACertificate: config.tls.serverCaCertPath ? readFileSetting('TEMPORAL_TLS_SERVER_CA_CERT_PATH', config.tls.serverCaCertPath) : undefined,
        clientCertPair:
          config.tls.clientCertPath && config.tls.clientKeyPath
            ? {
                crt: readFileSetting('TEMPORAL_TLS_CLIENT_CERT_PATH', config.tls.clientCertPath),
                key: readFileSetting('TEMPORAL_TLS_CLIENT_KEY_PATH', config.tls.clientKeyPath),
              }
            : undefined,
      }
    : undefined;
  return {
    address: config.address,
    tls,
    apiKey: config.apiKey,
    connectTimeout: '10 seconds',
    // gRPC waits up to 2 minutes between attempts to reconnect a lost channel by default, so a CLI
    // following a run (watch.ts) could see a restarted server only minutes after it is back.
    channelArgs: { 'grpc.initial_reconnect_backoff_ms': 500, 'grpc.max_reconnect_backoff_ms': 5_000 },
  };
}

function unreachable(config: TemporalConfig, err: unknown): UserError {
  return new UserError(
    `cannot reach Temporal at ${config.address} (namespace ${config.namespace}): ${(err as Error).message}. ` +
      'Start one with `npm run demo -- --keep-running` or `temporal server start-dev`, or set TEMPORAL_ADDRESS.',
  );
}

export async function connectClient(config: TemporalConfig): Promise<Client> {
  let connection: Connection;
  try {
    connection = await Connection.connect(connectionOptions(config));
  } catch (err) {
    throw unreachable(config, err);
  }
  return new Client({ connection, namespace: config.namespace });
}

export async function connectWorkerConnection(config: TemporalConfig): Promise<NativeConnection> {
  const o = connectionOptions(config);
  try {
    return await NativeConnection.connect({ address: o.address, tls: o.tls, apiKey: config.apiKey });
  } catch (err) {
    throw unreachable(config, err);
  }
}
