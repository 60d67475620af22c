/**
 * `pipeline schedule ...`: the Temporal Schedule that starts one run a day. The logic lives in
 * src/schedule; this module parses options and prints.
 */
import type { Client, ScheduleDescription } from '@temporalio/client';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import type { TemporalConfig } from '../../config';
import { loadConfig } from '../../config';
import {
  backfillSchedule,
  createOrUpdateSchedule,
  cronOfComment,
  dateInZone,
  DEFAULT_CATCHUP_WINDOW,
  DEFAULT_CRON,
  DEFAULT_SCHEDULE_ID,
  DEFAULT_TIME_ZONE,
  deleteSchedule,
  describeSchedule,
  ensureSearchAttributes,
  OVERLAP_POLICIES,
  parseDuration,
  parseOverlap,
  pauseSchedule,
  ScheduleMissingError,
  ScheduleSettingError,
  triggerAndFindRun,
  unpauseSchedule,
} from '../../schedule';
import { connectClient } from '../connection';
import { UserError } from '../errors';
import { parseDate, readOptionsFile } from './run';

function asArgument<T>(parse: (v: string) => T): (v: string) => T {
  return (v) => {
    try {
      return parse(v);
    } catch (err) {
      if (err instanceof ScheduleSettingError) throw new InvalidArgumentError(err.message.replace(/^--[\w-]+: /, ''));
      throw err;
    }
  };
}

/** Connects, runs `fn`, closes; schedule errors become one-line messages. */
async function withClient(fn: (client: Client, temporal: TemporalConfig) => Promise<void>): Promise<void> {
  const { temporal } = loadConfig();
  const client = await connectClient(temporal);
  try {
    await fn(client, temporal);
  } catch (err) {
    if (err instanceof ScheduleSettingError || err instanceof ScheduleMissingError) throw new UserError(err.message);
    throw err;
  } finally {
    await client.connection.close();
  }
}

function humanDuration(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1000],
  ];
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of units) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
  }
  return parts.join(' ') || `${ms} ms`;
}

function iso(d: Date): string {
  return d.toISOString().replace('.000Z', 'Z');
}

async function printDescription(client: Client, d: ScheduleDescription): Promise<void> {
  const tz = d.spec.timezone || 'UTC';
  const crons = (d.spec.calendars ?? []).map((c) => cronOfComment(c.comment) ?? '(calendar set outside this CLI)');
  const state = d.state.paused ? `PAUSED${d.state.note ? ` (${d.state.note})` : ''}` : 'active';
  console.log(`schedule ${d.scheduleId} in namespace ${client.options.namespace}: ${state}`);
  console.log(`  when:     ${crons.join(', ') || '(no calendar)'} in ${tz}`);
  console.log(
    `  starts:   ${d.action.workflowType} on task queue ${d.action.taskQueue}, workflow ids ${d.action.workflowId}-<scheduled time>`,
  );
  console.log(`  policies: overlap ${d.policies.overlap}, catch-up window ${humanDuration(d.policies.catchupWindow)}`);
  const i = d.info;
  console.log(
    `  actions:  ${i.numActionsTaken} taken, ${i.runningActions.length} running, ${i.numActionsSkippedOverlap} skipped for overlap, ${i.numActionsMissedCatchupWindow} missed the catch-up window`,
  );
  console.log('next runs:');
  if (d.state.paused) console.log('  (none while paused; these are the times once unpaused)');
  for (const at of i.nextActionTimes.slice(0, 5)) console.log(`  ${iso(at)}  run date ${dateInZone(at, tz)}`);
  console.log('recent actions:');
  if (i.recentActions.length === 0) console.log('  (none yet)');
  for (const a of i.recentActions.slice(-10)) {
    const wf = a.action.workflow;
    let status = '';
    try {
      status = (await client.workflow.getHandle(wf.workflowId, wf.firstExecutionRunId).describe()).status.name;
    } catch {
      status = 'unknown (no longer retained)';
    }
    console.log(
      `  scheduled ${iso(a.scheduledAt)}  run date ${dateInZone(a.scheduledAt, tz)}  taken ${iso(a.takenAt)}  ${wf.workflowId}  ${status}`,
    );
  }
}

const idOption = () => new Option('--id <scheduleId>', 'schedule id').default(DEFAULT_SCHEDULE_ID);

export function registerScheduleCommands(program: Command): void {
  const schedule = program.command('schedule').description('the Temporal Schedule that starts one pipeline run a day');

  schedule
    .command('create')
    .description('create the schedule, or update it to these settings (running it twice changes nothing)')
    .addOption(idOption())
    .option('--cron <expr>', 'five-field cron in the schedule time zone', DEFAULT_CRON)
    .option('--time-zone <tz>', "IANA time zone of the cron; also turns a run's scheduled time into its run date", DEFAULT_TIME_ZONE)
    .option('--overlap <policy>', `when the previous run is still going: ${OVERLAP_POLICIES.join(', ')}`, 'skip')
    .option('--catchup-window <duration>', 'how late a run missed while Temporal was down may still start', DEFAULT_CATCHUP_WINDOW)
    .option('--options <file>', 'JSON file with per-stage timing/retry overrides and quality thresholds for every scheduled run')
    .option('--paused', 'create it paused (ignored when it already exists: use pause/unpause)')
    .option('--register-search-attributes', "first add the pipeline's search attributes to the namespace (self-hosted servers)")
    .action(
      async (opts: {
        id: string;
        cron: string;
        timeZone: string;
        overlap: string;
        catchupWindow: string;
        options?: string;
        paused?: boolean;
        registerSearchAttributes?: boolean;
      }) => {
        await withClient(async (client, temporal) => {
          const settings = {
            scheduleId: opts.id,
            cron: opts.cron,
            timeZone: opts.timeZone,
            overlap: parseOverlap(opts.overlap),
            catchupWindowMs: parseDuration(opts.catchupWindow, '--catchup-window'),
            taskQueue: temporal.taskQueue,
            options: readOptionsFile(opts.options),
            createPaused: opts.paused ? { note: 'created paused from the CLI' } : undefined,
          };
          if (opts.registerSearchAttributes) {
            const added = await ensureSearchAttributes(client.connection, temporal.namespace);
            console.log(added.length ? `registered search attributes ${added.join(', ')}` : 'search attributes already registered');
          }
          const result = await createOrUpdateSchedule(client, settings);
          const what = result.outcome === 'updated' ? `updated (${result.changed.join(', ')})` : result.outcome;
          console.log(
            `schedule ${opts.id}: ${what}; ${opts.cron} ${opts.timeZone}, overlap ${settings.overlap}, task queue ${temporal.taskQueue}`,
          );
        });
      },
    );

  schedule
    .command('describe')
    .description('state, next run times and recent actions')
    .addOption(idOption())
    .option('--json', 'print the description as JSON')
    .action(async (opts: { id: string; json?: boolean }) => {
      await withClient(async (client) => {
        const d = await describeSchedule(client, opts.id);
        if (opts.json) {
          console.log(JSON.stringify({ ...d, raw: undefined }, null, 2));
          return;
        }
        await printDescription(client, d);
      });
    });

  schedule
    .command('pause')
    .description('stop starting scheduled runs (running ones go on)')
    .addOption(idOption())
    .option('--note <text>', 'why (shown by describe and in the Web UI)', 'paused from the CLI')
    .action(async (opts: { id: string; note: string }) => {
      await withClient(async (client) => {
        await pauseSchedule(client, opts.id, opts.note);
        console.log(`schedule ${opts.id}: paused (${opts.note})`);
      });
    });

  schedule
    .command('unpause')
    .description('start scheduled runs again (missed ones within the catch-up window start now)')
    .addOption(idOption())
    .option('--note <text>', 'why', 'unpaused from the CLI')
    .action(async (opts: { id: string; note: string }) => {
      await withClient(async (client) => {
        await unpauseSchedule(client, opts.id, opts.note);
        console.log(`schedule ${opts.id}: active`);
      });
    });

  schedule
    .command('trigger')
    .description("start a run now, for today's date in the schedule's time zone (works while paused)")
    .addOption(idOption())
    .option(
      '--overlap <policy>',
      'when a run is still going',
      asArgument((v) => parseOverlap(v)),
      'ALLOW_ALL',
    )
    .action(async (opts: { id: string; overlap: 'ALLOW_ALL' }) => {
      await withClient(async (client) => {
        const action = await triggerAndFindRun(client, opts.id, opts.overlap);
        if (action) {
          console.log(`schedule ${opts.id}: triggered; started ${action.action.workflow.workflowId}`);
        } else {
          console.log(
            `schedule ${opts.id}: triggered, but no run started within 10 s: the overlap policy may have skipped it, ` +
              `or a run with the same workflow id is still open; see \`pipeline schedule describe\``,
          );
        }
      });
    });

  schedule
    .command('backfill')
    .description('one schedule run per date from --from to --to, each with that date as its run date')
    .addOption(idOption())
    .requiredOption('--from <date>', 'first date YYYY-MM-DD', parseDate)
    .requiredOption('--to <date>', 'last date YYYY-MM-DD (included)', parseDate)
    .option(
      '--overlap <policy>',
      'buffer_all runs the dates one after another; allow_all runs them together',
      asArgument((v) => parseOverlap(v)),
      'BUFFER_ALL',
    )
    .action(async (opts: { id: string; from: string; to: string; overlap: 'BUFFER_ALL' }) => {
      await withClient(async (client) => {
        const plan = await backfillSchedule(client, opts.id, opts.from, opts.to, opts.overlap);
        console.log(
          `schedule ${opts.id}: backfill of ${plan.dates.length} date(s) ${opts.from}..${opts.to} (${plan.timeZone}) requested, overlap ${opts.overlap}; ` +
            `runs appear under PipelineTrigger = "backfill"`,
        );
      });
    });

  schedule
    .command('delete')
    .description('delete the schedule (runs it started are not affected)')
    .addOption(idOption())
    .action(async (opts: { id: string }) => {
      await withClient(async (client) => {
        await deleteSchedule(client, opts.id);
        console.log(`schedule ${opts.id}: deleted`);
      });
    });
}
