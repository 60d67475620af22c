import type { Command } from 'commander';
import { Option } from 'commander';
import { runDemo } from '../demo';
import { parseDate } from './run';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run a whole day on the local backend: Temporal dev server + Web UI, worker, data, pipeline, summary')
    .option('-d, --date <date>', 'logical date (default: yesterday, UTC)', parseDate)
    .option('--keep-running', 'leave the server and the worker up afterwards (Ctrl-C stops them)')
    .addOption(new Option('--port <port>', 'Temporal frontend port when the demo starts the server').argParser(Number).default(7233))
    .addOption(new Option('--ui-port <port>', 'Web UI port when the demo starts the server').argParser(Number).default(8233))
    .action(async (opts: { date?: string; keepRunning?: boolean; port: number; uiPort: number }) => {
      await runDemo(opts);
    });
}
