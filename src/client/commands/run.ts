import fs from 'node:fs';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../../config';
import { isIsoDate, isStageName, STAGES } from '../../shared/contract';
import type { DeepPartial, PipelineOptions } from '../../workflows/definitions';
import { rerunStageSignal, skipStageSignal } from '../../workflows/definitions';
import { connectClient } from '../connection';
import { UserError } from '../errors';
import { printable, statusTable } from '../format';
import { closedRunDate, findRun, readStatus, requireOpenRun, startRun } from '../runs';
import { watchRun } from '../watch';

export function parseDate(value: string): string {
  if (!isIsoDate(value)) throw new InvalidArgumentError(`expected a date as YYYY-MM-DD, got ${JSON.stringify(value)}`);
  return value;
}

export function parseStage(value: string): string {
  if (!isStageName(value)) throw new InvalidArgumentError(`expected one of ${STAGES.join(', ')}`);
  return value;
}

export function readOptionsFile(file: string | undefined): DeepPartial<PipelineOptions> | undefined {
  if (!file) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as DeepPartial<PipelineOptions>;
  } catch (err) {
    throw new UserError(`--options ${file}: ${(err as Error).message}`);
  }
}

export function registerRunCommands(program: Command): void {
  program
    .command('run')
    .description('start the pipeline for one date')
    .requiredOption('-d, --date <date>', 'logical date YYYY-MM-DD', parseDate)
    .option('-w, --wait', 'follow the run until it ends and print its stages')
    .option('--from <stage>', 'start at this stage (earlier stages are marked skipped)', parseStage)
    .option('--options <file>', 'JSON file with per-stage timing/retry overrides and quality thresholds')
    .action(async (opts: { date: string; wait?: boolean; from?: string; options?: string }) => {
      const config = loadConfig();
      const client = await connectClient(config.temporal);
      const handle = await startRun(client, config.temporal.taskQueue, {
        runDate: opts.date,
        trigger: 'manual',
        startFrom: opts.from as never,
        options: readOptionsFile(opts.options),
      });
      console.log(`started ${handle.workflowId} on task queue ${config.temporal.taskQueue}`);
      console.log(`web UI: ${config.temporal.webUiUrl}/namespaces/${config.temporal.namespace}/workflows/${handle.workflowId}`);
      if (!opts.wait) return;
      const outcome = await watchRun(handle);
      if (outcome.status) console.log(statusTable(outcome.status));
      if (!outcome.ok) throw new UserError(`run ${handle.workflowId} did not succeed: ${outcome.error}`);
    });

  program
    .command('status')
    .description('show the stages of a run, found by date (newest run) or workflow id')
    .argument('<target>', 'YYYY-MM-DD or workflow id')
    .addOption(new Option('--json', 'print the status as JSON'))
    .action(async (target: string, opts: { json?: boolean }) => {
      const config = loadConfig();
      const client = await connectClient(config.temporal);
      const handle = await findRun(client, target);
      const { status, closed, memo } = await readStatus(client, handle);
      if (opts.json) {
        console.log(JSON.stringify(status ?? { execution: closed, summary: memo }, null, 2));
        return;
      }
      console.log(printable(`${handle.workflowId} (${closed})`));
      if (status) console.log(statusTable(status));
      else console.log(`No worker answered the status query; last recorded summary: ${printable(JSON.stringify(memo ?? 'none'))}`);
    });

  for (const [name, signal, verb] of [
    ['skip', skipStageSignal, 'skip'],
    ['rerun', rerunStageSignal, 'rerun (that stage and all after it)'],
  ] as const) {
    program
      .command(name)
      .description(
        name === 'rerun'
          ? `${verb} of a run: a failed stage waiting for an operator, the running one, or a later one; on a finished run, redo its day from that stage in a new run`
          : `${verb} a stage of a run: a failed stage waiting for an operator, the running one, or a later one`,
      )
      .argument('<stage>', STAGES.join(' | '), parseStage)
      .argument('<target>', 'YYYY-MM-DD or workflow id')
      .option('-r, --reason <text>', 'why (recorded in the run status)', 'requested from the CLI')
      .action(async (stage: string, target: string, opts: { reason: string }) => {
        const config = loadConfig();
        const client = await connectClient(config.temporal);
        const handle = await findRun(client, target);
        if (name === 'rerun') {
          const closed = await closedRunDate(handle);
          if (closed) {
            // Redoing a finished day: a new run of the date from that stage, the earlier ones skipped.
            const redo = await startRun(client, config.temporal.taskQueue, {
              runDate: closed.runDate,
              trigger: 'rerun',
              startFrom: stage as never,
              reason: opts.reason,
            });
            console.log(
              `run ${handle.workflowId} had ended (${closed.state}); started a new run of ${closed.runDate} from ${stage} (earlier stages skipped, PipelineTrigger = "rerun"), ` +
                `reason: ${printable(opts.reason)}; follow it with \`pipeline status ${closed.runDate}\``,
            );
            console.log(`web UI: ${config.temporal.webUiUrl}/namespaces/${config.temporal.namespace}/workflows/${redo.workflowId}`);
            return;
          }
        }
        await requireOpenRun(handle, `${name} a stage`);
        await handle.signal(signal as typeof skipStageSignal, stage as never, opts.reason);
        console.log(
          `sent ${signal.name}(${stage}) to ${handle.workflowId}; see \`pipeline status ${target}\` for what the run did with it`,
        );
      });
  }

  program
    .command('cancel')
    .description('cancel a run: it stops the work it started and sends a cancellation notice')
    .argument('<target>', 'YYYY-MM-DD or workflow id')
    .action(async (target: string) => {
      const config = loadConfig();
      const client = await connectClient(config.temporal);
      const handle = await findRun(client, target);
      await requireOpenRun(handle, 'be cancelled');
      await handle.cancel();
      console.log(`cancellation requested for ${handle.workflowId}`);
    });
}
