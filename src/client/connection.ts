/** Connects to Temporal with the validated configuration, with an error that says what to do. */
import fs from 'node:fs';
import net from 'node:net';
import { Client, Connection } from '@temporalio/client';
import type { ConnectionOptions } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { TemporalConfig } from '../config';
import { rememberServerTarget, serverDownMessage, UserError } from './errors';

function readFileSetting(setting: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new UserError(
      `configuration error: ${setting}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      2,
    );
  }
}

export function connectionOptions(config: TemporalConfig): ConnectionOptions {
  const tls = config.tls
    ? {
        serverNameOverride: config.tls.serverName,
        serverRootCACertificate: config.tls.serverCaCertPath
          ? readFileSetting('TEMPORAL_TLS_SERVER_CA_CERT_PATH', config.tls.serverCaCertPath)
          : undefined,
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
  return new UserError(serverDownMessage(config.address, config.namespace, (err as Error).message.replace(/\s*\n\s*/g, ' ')));
}

function notTemporal(config: TemporalConfig, what: string): UserError {
  return new UserError(
    `what answers at ${config.address} is not a Temporal frontend (${what}); ` +
      "check TEMPORAL_ADDRESS: the frontend's gRPC port (7233 for `pipeline server`), not the Web UI's (8233)",
  );
}

/** How long the CLI waits for the server's port to accept a connection before saying it is down. */
export const PROBE_TIMEOUT_MS = 2_000;
/** How long it waits for an answer to the HTTP/2 preface on a plain-text connection. */
const PREFACE_WAIT_MS = 500;
const HTTP2_PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

function usesProxy(host: string): boolean {
  if (/^(127\.\d+\.\d+\.\d+|localhost|\[?::1\]?)$/i.test(host)) return false;
  return ['grpc_proxy', 'https_proxy', 'http_proxy'].some((k) => process.env[k] || process.env[k.toUpperCase()]);
}

export type ProbeResult = { ok: true } | { ok: false; down: boolean; problem: string };

/**
 * Whether something at `address` accepts a TCP connection, and (for plain text) speaks HTTP/2 as a
 * gRPC server does. gRPC keeps retrying a refused connection until its deadline (10 s), and waits as
 * long on a server that speaks only HTTP/1 (the Web UI's port); this answers in milliseconds for a
 * server that is down or is not gRPC, and within PROBE_TIMEOUT_MS for one that does not answer.
 * Skipped (ok) when a proxy carries the connection: then the address is the proxy's to reach.
 */
export function probeAddress(address: string, opts: { tls?: boolean; timeoutMs?: number } = {}): Promise<ProbeResult> {
  const timeoutMs = opts.timeoutMs ?? PROBE_TIMEOUT_MS;
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || usesProxy(host)) return Promise.resolve({ ok: true });
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let timer: NodeJS.Timeout;
    const done = (result: ProbeResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    timer = setTimeout(
      () => done({ ok: false, down: true, problem: `nothing accepted a connection within ${timeoutMs / 1000} s` }),
      timeoutMs,
    );
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done({ ok: false, down: true, problem: err.code === 'ECONNREFUSED' ? 'connection refused' : (err.code ?? err.message) }),
    );
    socket.once('connect', () => {
      if (opts.tls) return done({ ok: true });
      clearTimeout(timer);
      // A gRPC server answers the preface with a SETTINGS frame; an HTTP/1 server with "HTTP/1.1 400".
      timer = setTimeout(() => done({ ok: true }), PREFACE_WAIT_MS);
      socket.once('data', (data: Buffer) => {
        const text = data.toString('latin1');
        done(
          text.startsWith('HTTP/1.') ? { ok: false, down: false, problem: `it answers HTTP/1: ${text.split('\r\n')[0]}` } : { ok: true },
        );
      });
      socket.write(HTTP2_PREFACE);
    });
  });
}

async function probe(config: TemporalConfig): Promise<void> {
  const result = await probeAddress(config.address, { tls: config.tls !== undefined });
  if (result.ok) return;
  throw result.down ? unreachable(config, new Error(result.problem)) : notTemporal(config, result.problem);
}

export async function connectClient(config: TemporalConfig): Promise<Client> {
  rememberServerTarget(config);
  await probe(config);
  let connection: Connection;
  try {
    connection = await Connection.connect(connectionOptions(config));
  } catch (err) {
    throw unreachable(config, err);
  }
  return new Client({ connection, namespace: config.namespace });
}

export async function connectWorkerConnection(config: TemporalConfig): Promise<NativeConnection> {
  rememberServerTarget(config);
  await probe(config);
  const o = connectionOptions(config);
  try {
    return await NativeConnection.connect({ address: o.address, tls: o.tls, apiKey: config.apiKey });
  } catch (err) {
    throw unreachable(config, err);
  }
}
