import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { installRuntime } from '../../observability';
import { createPipelineWorker } from '../../worker';
import { connectWorkerConnection } from '../connection';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run a worker for the configured backend (Ctrl-C drains and stops it)')
    .action(async () => {
      const config = loadConfig();
      const { metricsUrl } = installRuntime({ logLevel: config.logLevel, metricsAddress: config.metricsAddress });
      if (metricsUrl) console.log(`metrics: ${metricsUrl}`);
      const connection = await connectWorkerConnection(config.temporal);
      try {
        const { worker, run } = await createPipelineWorker({ config, connection });
        console.log(
          `worker: backend ${config.backend}, task queue ${config.temporal.taskQueue}, Temporal ${config.temporal.address} namespace ${config.temporal.namespace}`,
        );
        void worker;
        await run();
      } finally {
        await connection.close();
      }
    });
}
