/** A Temporal CLI dev server for a test file: free ports, no Web UI, the pipeline's search attributes registered. */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { startDevServer } from '../../../src/devtools';
import type { DevServerHandle, DevServerOptions } from '../../../src/devtools';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../../src/workflows/definitions';

export interface TestDevServer extends DevServerHandle {
  /** Client connection (workflow, schedule and operator services). */
  connection: Connection;
  client: Client;
  /** For Worker.create({ connection }). */
  nativeConnection: NativeConnection;
}

export async function startTestDevServer(options: DevServerOptions = {}): Promise<TestDevServer> {
  const server = await startDevServer({ headless: true, searchAttributes: [...CUSTOM_SEARCH_ATTRIBUTES], ...options });
  let connection: Connection | undefined;
  let nativeConnection: NativeConnection | undefined;
  try {
    connection = await Connection.connect({ address: server.address });
    nativeConnection = await NativeConnection.connect({ address: server.address });
  } catch (err) {
    await connection?.close();
    await server.stop();
    throw err;
  }
  const client = new Client({ connection, namespace: server.namespace });
  const connections = { connection, nativeConnection };
  return {
    ...server,
    ...connections,
    client,
    async stop() {
      await connections.nativeConnection.close().catch(() => undefined);
      await connections.connection.close().catch(() => undefined);
      await server.stop();
    },
  };
}
