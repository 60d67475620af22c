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

/** What an exported history file holds: the history, and (since export writes them) whose it is. */
interface HistoryFile {
  history: History;
  workflowId?: string;
  runId?: string;
}

function readHistoryFile(file: string): HistoryFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`replay: cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    const json = JSON.parse(text) as { workflowId?: unknown; runId?: unknown };
    const history = historyFromJSON(json);
    if (!history.events?.length) throw new Error('it has no events');
    return {
      history,
      workflowId: typeof json.workflowId === 'string' && json.workflowId ? json.workflowId : undefined,
      runId: typeof json.runId === 'string' && json.runId ? json.runId : undefined,
    };
  } catch (err) {
    throw new UserError(
      `replay: ${file} is not a workflow history in JSON (as \`pipeline history export\` or \`temporal workflow show --output json\` write): ${(err as Error).message}`,
    );
  }
}

/** Sensor children are `<parent workflow id>/awaitRawData/<attempt>` (src/workflows/stages.ts). */
const CHILD_ID = /^(.+)\/awaitRawData\/\d+$/;

/**
 * The workflow id a history was recorded under, which replay needs (the run derives its children's
 * ids from it): the id `history export` stores beside the events, else the one newer servers put in
 * the started event, else the one the run's first sensor child id starts with. Undefined when the
 * history says nothing (a run that never started a child, in a file from another tool).
 */
export function workflowIdOfHistory(file: HistoryFile): { workflowId: string; from: string } | undefined {
  if (file.workflowId) return { workflowId: file.workflowId, from: 'the file' };
  const events = file.history.events ?? [];
  const started = events[0]?.workflowExecutionStartedEventAttributes as { workflowId?: string | null } | null | undefined;
  if (started?.workflowId) return { workflowId: started.workflowId, from: 'the started event' };
  for (const e of events) {
    const childId = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
    const parent = childId ? CHILD_ID.exec(childId)?.[1] : undefined;
    if (parent) return { workflowId: parent, from: `its child workflow ${childId}` };
  }
  return undefined;
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
    .description(
      "replay a run's history against the current workflow code: fetched from the server, or read from a file that `history export` wrote",
    )
    .argument('[workflow-id]', 'the run to fetch (with --file: the id the history was recorded under, when the file does not say)')
    .option('--run-id <id>', 'a specific run (default: the latest)')
    .option('--file <history.json>', 'replay an exported history instead of fetching one; needs no server')
    .action(async (workflowIdArg: string | undefined, opts: { runId?: string; file?: string }) => {
      if (!workflowIdArg && !opts.file) throw new UserError('replay: give a workflow id, or --file <history.json>');
      let history: History;
      let workflowId: string;
      let label: string;
      if (opts.file) {
        const file = readHistoryFile(opts.file);
        history = file.history;
        const recorded = workflowIdOfHistory(file);
        if (workflowIdArg) {
          workflowId = workflowIdArg;
        } else if (recorded) {
          workflowId = recorded.workflowId;
        } else {
          workflowId = path.basename(opts.file, '.json');
          console.error(
            `pipeline: note: ${opts.file} does not say which workflow id it was recorded under; replaying it as ${JSON.stringify(workflowId)} (its file name). ` +
              'If that is not its id, give it: `pipeline replay <workflow-id> --file ...`',
          );
        }
        label = `${workflowId} (${opts.file})`;
      } else {
        workflowId = workflowIdArg!;
        history = await fetchHistory(workflowId, opts.runId);
        label = workflowId;
      }
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
    .description("write a run's history as JSON (the format `temporal workflow show --output json` uses, plus its workflow id and run id)")
    .argument('<workflow-id>')
    .argument('<file>')
    .option('--run-id <id>', 'a specific run (default: the latest)')
    .action(async (workflowId: string, file: string, opts: { runId?: string }) => {
      const config = loadConfig();
      const client = await connectClient(config.temporal);
      const handle = client.workflow.getHandle(workflowId, opts.runId);
      const h = await handle.fetchHistory();
      // The events in the format `temporal workflow show --output json` writes, with whose history it
      // is beside them (readers of that format ignore the extra fields): replay needs the workflow id.
      const runId = opts.runId ?? (await handle.describe()).runId;
      const json = JSON.parse(historyToJSON(h)) as object;
      fs.writeFileSync(file, `${JSON.stringify({ workflowId, runId, ...json }, null, 2)}\n`);
      console.log(`wrote ${h.events?.length ?? 0} events of ${workflowId} to ${file}`);
    });
}
