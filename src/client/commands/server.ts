/**
 * `pipeline server`: a local Temporal dev server for the pipeline (search attributes registered,
 * Web UI, histories kept beside the warehouse), running until Ctrl-C. And
 * `pipeline register-search-attributes` for a server that lacks them.
 */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../../config';
import { isServerUp } from '../../devtools';
import { ensureSearchAttributes } from '../../schedule';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../workflows/definitions';
import { connectClient } from '../connection';
import { UserError } from '../errors';
import { DEFAULT_SERVER_PORT, DEFAULT_UI_PORT, startLocalDevServer } from '../local-server';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new InvalidArgumentError(`expected a TCP port (1-65535), got ${JSON.stringify(value)}`);
  return port;
}

/** Resolves with the signal's name on the first SIGINT or SIGTERM; the handlers are removed then. */
function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

async function runServer(opts: { port: number; uiPort: number; dbFile?: string }): Promise<void> {
  const config = loadConfig();
  const address = `127.0.0.1:${opts.port}`;
  if (await isServerUp(address, 1_000)) {
    throw new UserError(`a Temporal server already answers at ${address}: use it, or start another one with --port and --ui-port`);
  }
  const stopping = nextStopSignal();
  console.log('starting the Temporal dev server (the first time, this may build the temporal CLI with Go: a few minutes)...');
  const starting = startLocalDevServer(config, { port: opts.port, uiPort: opts.uiPort, dbFile: opts.dbFile });
  const started = await Promise.race([starting, stopping]);
  if (typeof started === 'string') {
    // Ctrl-C while it starts: a server that comes up after all is stopped, not left behind.
    console.log(`interrupted (${started}); stopping the Temporal dev server it was starting...`);
    const late = await starting.catch(() => undefined);
    await late?.server.stop();
    throw new UserError(`interrupted (${started}) before the Temporal dev server was up`, 130);
  }
  const { server, dbFile } = started;
  console.log(`Temporal dev server (pid ${server.pid}) at ${server.address}, namespace ${server.namespace}; Web UI ${server.uiUrl}`);
  console.log(`histories in ${dbFile}; search attributes ${CUSTOM_SEARCH_ATTRIBUTES.join(', ')} registered`);
  const configuredUiPort = /:(\d+)(\/|$)/.exec(config.temporal.webUiUrl.replace(/^\w+:\/\//, ''))?.[1];
  if (server.address !== config.temporal.address || configuredUiPort !== String(opts.uiPort)) {
    console.log(`point the CLI and the worker at it: export TEMPORAL_ADDRESS=${server.address} PIPELINE_WEB_UI_URL=${server.uiUrl}`);
  }
  console.log('Ctrl-C stops it');
  const outcome = await Promise.race([stopping, server.exited?.then((code) => ({ exited: code })) ?? new Promise<never>(() => undefined)]);
  if (typeof outcome !== 'string') {
    throw new UserError(`the Temporal dev server exited on its own (${outcome.exited}); its last output:\n${server.logTail()}`);
  }
  console.log(`stopping the Temporal dev server (${outcome})...`);
  await server.stop();
  console.log('stopped');
}

export function registerServerCommands(program: Command): void {
  program
    .command('server')
    .description(
      'run a local Temporal dev server for the pipeline (search attributes, Web UI, histories beside the warehouse) until Ctrl-C',
    )
    .addOption(new Option('--port <port>', 'frontend gRPC port on 127.0.0.1').argParser(parsePort).default(DEFAULT_SERVER_PORT))
    .addOption(new Option('--ui-port <port>', 'Web UI port on 127.0.0.1').argParser(parsePort).default(DEFAULT_UI_PORT))
    .option(
      '--db-file <file>',
      'SQLite file keeping workflow histories across restarts (default: temporal.sqlite beside PIPELINE_WAREHOUSE_PATH)',
    )
    .action(async (opts: { port: number; uiPort: number; dbFile?: string }) => {
      await runServer(opts);
    });

  program
    .command('register-search-attributes')
    .description(
      "add the pipeline's search attributes (PipelineRunDate, ...) to the namespace of a self-hosted server; harmless when they exist",
    )
    .action(async () => {
      const { temporal } = loadConfig();
      const client = await connectClient(temporal);
      try {
        const added = await ensureSearchAttributes(client.connection, temporal.namespace);
        console.log(
          added.length
            ? `registered search attributes ${added.join(', ')} in namespace ${temporal.namespace} at ${temporal.address}`
            : `search attributes already registered in namespace ${temporal.namespace} at ${temporal.address}`,
        );
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        // PERMISSION_DENIED, UNIMPLEMENTED, UNAUTHENTICATED: a hosted namespace (Temporal Cloud).
        if (code === 7 || code === 12 || code === 16) {
          throw new UserError(
            `Temporal at ${temporal.address} did not let this client add search attributes (${(err as Error).message}); on Temporal Cloud add them (Keyword) in the Cloud console or with tcld`,
          );
        }
        throw err;
      } finally {
        await client.connection.close();
      }
    });
}
