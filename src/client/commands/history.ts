import fs from 'node:fs';
import type { Command } from 'commander';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { loadConfig } from '../../config';
import { connectClient } from '../connection';
import { UserError } from '../errors';
import { replayHistory } from '../replay';

export function registerHistoryCommands(program: Command): void {
  program
    .command('replay')
    .description("fetch a run's history from the server and replay it against the current workflow code")
    .argument('<workflow-id>')
    .option('--run-id <id>', 'a specific run (default: the latest)')
    .action(async (workflowId: string, opts: { runId?: string }) => {
      const config = loadConfig();
      const client = await connectClient(config.temporal);
      const history = await client.workflow.getHandle(workflowId, opts.runId).fetchHistory();
      const verdict = await replayHistory(history, workflowId);
      if (verdict.ok) {
        console.log(`replayed ${verdict.events} events of ${workflowId}: the current code is compatible with this history`);
        return;
      }
      if (verdict.nondeterministic) {
        throw new UserError(`nondeterminism: the current workflow code does not replay ${workflowId} (${verdict.events} events): ${verdict.message}`, 3);
      }
      throw new UserError(`replay of ${workflowId} failed: ${verdict.message}`);
    });

  const history = program.command('history').description('workflow histories');
  history
    .command('export')
    .description("write a run's history as JSON (the format `temporal workflow show --output json` uses)")
    .argument('<workflow-id>')
    .argument('<file>')
    .option('--run-id <id>', 'a specific run (default: the latest)')
    .action(async (workflowId: string, file: string, opts: { runId?: string }) => {
      const config = loadConfig();
      const client = await connectClient(config.temporal);
      const h = await client.workflow.getHandle(workflowId, opts.runId).fetchHistory();
      fs.writeFileSync(file, historyToJSON(h));
      console.log(`wrote ${h.events?.length ?? 0} events of ${workflowId} to ${file}`);
    });
}
