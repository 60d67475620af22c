import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { History } from '@temporalio/common/lib/proto-utils';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { installRuntime } from '../../observability';
import { loadConfig } from '../../config';
import { connectClient } from '../connection';
import { UserError } from '../errors';
import { replayHistory } from '../replay';

async function fetchHistory(workflowId: string, runId: string | undefined): Promise<History> {
  const client = await connectClient(loadConfig().temporal);
  return client.workflow.getHandle(workflowId, runId).fetchHistory();
}

function readHistoryFile(file: string): History {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`replay: cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    const history = historyFromJSON(JSON.parse(text));
    if (!history.events?.length) throw new Error('it has no events');
    return history;
  } catch (err) {
    throw new UserError(`replay: ${file} is not a workflow history in JSON (as \`pipeline history export\` or \`temporal workflow show --output json\` write): ${(err as Error).message}`);
  }
}

/** Replay bundles the workflows and Core reports the failed task; neither helps here, the verdict does. */
function quietRuntime(): void {
  try {
    installRuntime({ logLevel: 'error', destination: process.stderr });
  } catch {
    // A runtime is already installed (the CLI running inside a test): keep it.
  }
}

export function registerHistoryCommands(program: Command): void {
  program
    .command('replay')
    .description("replay a run's history against the current workflow code: fetched from the server, or read from a file that `history export` wrote")
    .argument('[workflow-id]', 'the run to fetch (not needed with --file)')
    .option('--run-id <id>', 'a specific run (default: the latest)')
    .option('--file <history.json>', 'replay an exported history instead of fetching one; needs no server')
    .action(async (workflowIdArg: string | undefined, opts: { runId?: string; file?: string }) => {
      if (!workflowIdArg && !opts.file) throw new UserError('replay: give a workflow id, or --file <history.json>');
      const history = opts.file ? readHistoryFile(opts.file) : await fetchHistory(workflowIdArg!, opts.runId);
      const workflowId = workflowIdArg ?? path.basename(opts.file!, '.json');
      const label = opts.file ? `${workflowId} (${opts.file})` : workflowId;
      quietRuntime();
      const verdict = await replayHistory(history, workflowId);
      if (verdict.ok) {
        console.log(`replayed ${verdict.events} events of ${label}: the current code is compatible with this history`);
        return;
      }
      if (verdict.nondeterministic) {
        throw new UserError(
          `nondeterminism: the current workflow code does not replay ${label} (${verdict.events} events): ${verdict.message}\n` +
            'A change that alters the commands a run issues must be guarded with patched() so runs in flight keep replaying.',
          3,
        );
      }
      throw new UserError(`replay of ${label} failed: ${verdict.message}`);
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
