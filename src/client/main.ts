/**
 * `pipeline`: the command-line client. Each command group lives in its own module under commands/.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config';
import { operatorMessage, UserError } from './errors';
import { printable } from './format';
import { loadWhenNeeded } from './lazy';

import type * as AwsCommands from './commands/aws';
import type * as DemoCommand from './commands/demo';
import type * as GenerateCommand from './commands/generate';
import type * as HistoryCommands from './commands/history';
import type * as QueryCommand from './commands/query';
import type * as ReportCommand from './commands/report';
import type * as RunCommands from './commands/run';
import type * as ScheduleCommands from './commands/schedule';
import type * as ServerCommands from './commands/server';
import type * as WatchCommand from './commands/watch';
import type * as WorkerCommand from './commands/worker';

type Register = (program: Command) => void;

/* eslint-disable @typescript-eslint/no-require-imports -- see lazy.ts: require under tsx and in dist, import() under vitest */
const GROUPS: { commands: string[]; load: () => Promise<Register> }[] = [
  {
    commands: ['worker'],
    load: () =>
      loadWhenNeeded(
        () => require('./commands/worker') as typeof WorkerCommand,
        () => import('./commands/worker'),
      ).then((m) => m.registerWorkerCommand),
  },
  {
    commands: ['run', 'status', 'skip', 'rerun', 'cancel'],
    load: () =>
      loadWhenNeeded(
        () => require('./commands/run') as typeof RunCommands,
        () => import('./commands/run'),
      ).then((m) => m.registerRunCommands),
  },
  {
    commands: ['replay', 'history'],
    load: () =>
      loadWhenNeeded(
        () => require('./commands/history') as typeof HistoryCommands,
        () => import('./commands/history'),
      ).then((m) => m.registerHistoryCommands),
  },
  {
    commands: ['schedule'],
    load: () =>
      loadWhenNeeded(
        () => require('./commands/schedule') as typeof ScheduleCommands,
        () => import('./commands/schedule'),
      ).then((m) => m.registerScheduleCommands),
  },
  {
    commands: ['generate'],
    load: () =>
      loadWhenNeeded(
        () => require('./commands/generate') as typeof GenerateCommand,
        () => import('./commands/generate'),
      ).then((m) => m.registerGenerateCommand),
  },
  {
    commands: ['query'],
    load: () =>
      loadWhenNeeded(
        () => require('./commands/query') as typeof QueryCommand,
        () => import('./commands/query'),
      ).then((m) => m.registerQueryCommand),
  },
  {
    commands: ['report'],
    load: () =>
      loadWhenNeeded(
        () => require('./commands/report') as typeof ReportCommand,
        () => import('./commands/report'),
      ).then((m) => m.registerReportCommand),
  },
  {
    commands: ['aws'],
    load: () =>
      loadWhenNeeded(
        () => require('./commands/aws') as typeof AwsCommands,
        () => import('./commands/aws'),
      ).then((m) => m.registerAwsCommands),
  },
  {
    commands: ['server', 'register-search-attributes'],
    load: () =>
      loadWhenNeeded(
        () => require('./commands/server') as typeof ServerCommands,
        () => import('./commands/server'),
      ).then((m) => m.registerServerCommands),
  },
  {
    commands: ['watch'],
    load: () =>
      loadWhenNeeded(
        () => require('./commands/watch') as typeof WatchCommand,
        () => import('./commands/watch'),
      ).then((m) => m.registerWatchCommand),
  },
  {
    commands: ['demo'],
    load: () =>
      loadWhenNeeded(
        () => require('./commands/demo') as typeof DemoCommand,
        () => import('./commands/demo'),
      ).then((m) => m.registerDemoCommand),
  },
];
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * The program with the commands `argv` asks for: only that command's group when it names one, so
 * its start-up loads only what it uses; every command for help, no command or an unknown one.
 */
export async function buildProgram(argv: string[] = process.argv): Promise<Command> {
  const program = new Command('pipeline')
    .description('Run and operate the daily e-commerce pipeline on Temporal')
    // A usage mistake is one line saying what is wrong and where the usage is, not the whole help.
    .configureOutput({ outputError: (text, write) => write(usageLine(text, commandPath(program, argv))) })
    .exitOverride();
  const name = argv[2];
  const named = GROUPS.filter((g) => name !== undefined && g.commands.includes(name));
  for (const group of named.length > 0 ? named : GROUPS) (await group.load())(program);
  return program;
}

/** The (sub)command names `argv` reaches, e.g. `schedule create`: where the usage of a mistake is. */
function commandPath(program: Command, argv: string[]): string {
  const names: string[] = [];
  let current = program;
  for (const arg of argv.slice(2)) {
    if (arg.startsWith('-')) continue;
    const sub = current.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (!sub) break;
    names.push(sub.name());
    current = sub;
  }
  return names.join(' ');
}

/** Commander's "error: unknown option '--x'" as one line: `pipeline: unknown option '--x' (see `pipeline run --help`)`. */
function usageLine(text: string, command: string): string {
  const message = text
    .trim()
    .replace(/^error:\s*/i, '')
    .replace(/\s*\n\s*/g, ' ');
  return `pipeline: ${printable(message)} (see \`pipeline ${command ? `${command} ` : ''}--help\`)\n`;
}

/** Errors a user can act on are printed as one line; anything else keeps its stack. */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode;
  if (err instanceof ConfigError) {
    console.error(`pipeline: configuration error: ${printable(err.message)}`);
    return 2;
  }
  if (err instanceof UserError) {
    console.error(`pipeline: ${printable(err.message, { keepNewlines: true })}`);
    return err.exitCode;
  }
  const message = operatorMessage(err);
  if (message !== undefined) {
    console.error(`pipeline: ${printable(message)}`);
    return 1;
  }
  console.error(err);
  return 1;
}

/**
 * Output piped into a reader that stopped reading (`pipeline schedule describe | head -3`): stop
 * quietly, as Unix tools do, instead of crashing on EPIPE with a stack trace.
 */
export function exitQuietlyOnBrokenPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
}

export async function main(argv: string[] = process.argv): Promise<void> {
  exitQuietlyOnBrokenPipe();
  try {
    await (await buildProgram(argv)).parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
    // The command's own clean-up has run on the way here; whatever it could not close (a worker's
    // runtime after a failed start, say) must not keep a failed command from ending.
    setTimeout(() => process.exit(), 2_000).unref();
  }
}

if (require.main === module) {
  void main();
}
