/**
 * A real time-skipping TestWorkflowEnvironment on a test server we start ourselves.
 *
 * The SDK's createTimeSkipping() can launch an existing test-server binary, but gives it about 5 s to
 * listen and binds every interface; a cold JVM on a busy 2-core machine can miss that. Here the JVM
 * binds 127.0.0.1 on a kernel-chosen port, may take its time, and the environment is wired exactly
 * as createTimeSkipping wires it (test service enabled on both connections, time-skipping client).
 */
import { Connection } from '@temporalio/client';
import { InternalConnectionOptionsSymbol } from '@temporalio/client/lib/connection';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { startTestServer } from '../../../src/devtools';
import type { TestServerHandle, TestServerOptions } from '../../../src/devtools';

class LaunchedTimeSkippingEnvironment extends TestWorkflowEnvironment {
  private constructor(
    private readonly jvm: TestServerHandle,
    connection: Connection,
    nativeConnection: NativeConnection,
  ) {
    super(
      Runtime.instance(),
      { server: { type: 'existing' }, client: {}, plugins: [] },
      true,
      // 'existing' tells the base teardown not to manage a server; ours is stopped in teardown below.
      'existing',
      connection,
      nativeConnection,
      undefined,
      jvm.address,
    );
  }

  static async launch(options: TestServerOptions = {}): Promise<TestWorkflowEnvironment> {
    const jvm = await startTestServer(options);
    try {
      const internal = { [InternalConnectionOptionsSymbol]: { supportsTestService: true } };
      const nativeConnection = await NativeConnection.connect({ address: jvm.address, ...internal });
      const connection = await Connection.connect({ address: jvm.address, ...internal });
      return new LaunchedTimeSkippingEnvironment(jvm, connection, nativeConnection);
    } catch (err) {
      await jvm.stop();
      throw err;
    }
  }

  /** The JVM's pid, for tests that check it is gone after teardown. */
  get serverPid(): number {
    return this.jvm.pid;
  }

  override async teardown(): Promise<void> {
    try {
      await super.teardown();
    } finally {
      await this.jvm.stop();
    }
  }
}

/** A time-skipping environment on its own test-server JVM; `teardown()` stops the JVM. */
export function createTimeSkippingEnv(options: TestServerOptions = {}): Promise<TestWorkflowEnvironment> {
  return LaunchedTimeSkippingEnvironment.launch(options);
}

/** The pid of the JVM behind an environment made by createTimeSkippingEnv. */
export function timeSkippingServerPid(env: TestWorkflowEnvironment): number | undefined {
  return env instanceof LaunchedTimeSkippingEnvironment ? env.serverPid : undefined;
}
