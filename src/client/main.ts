/**
 * `pipeline`: the command-line client. Each command group lives in its own module under commands/.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config';
import { UserError } from './errors';
import { loadWhenNeeded } from './lazy';

import type * as AwsCommands from './commands/aws';
import type * as DemoCommand from './commands/demo';
import type * as GenerateCommand from './commands/generate';
import type * as HistoryCommands from './commands/history';
import type * as QueryCommand from './commands/query';
import type * as RunCommands from './commands/run';
import type * as ScheduleCommands from './commands/schedule';
import type * as WorkerCommand from './commands/worker';

type Register = (program: Command) => void;

/* eslint-disable @typescript-eslint/no-require-imports -- see lazy.ts: require under tsx and in dist, import() under vitest */
const GROUPS: { commands: string[]; load: () => Promise<Register> }[] = [
  {
    commands: ['worker'],
    load: () => loadWhenNeeded(() => require('./commands/worker') as typeof WorkerCommand, () => import('./commands/worker')).then((m) => m.registerWorkerCommand),
  },
  {
    commands: ['run', 'status', 'skip', 'rerun', 'cancel'],
    load: () => loadWhenNeeded(() => require('./commands/run') as typeof RunCommands, () => import('./commands/run')).then((m) => m.registerRunCommands),
  },
  {
    commands: ['replay', 'history'],
    load: () => loadWhenNeeded(() => require('./commands/history') as typeof HistoryCommands, () => import('./commands/history')).then((m) => m.registerHistoryCommands),
  },
  {
    commands: ['schedule'],
    load: () => loadWhenNeeded(() => require('./commands/schedule') as typeof ScheduleCommands, () => import('./commands/schedule')).then((m) => m.registerScheduleCommands),
  },
  {
    commands: ['generate'],
    load: () => loadWhenNeeded(() => require('./commands/generate') as typeof GenerateCommand, () => import('./commands/generate')).then((m) => m.registerGenerateCommand),
  },
  {
    commands: ['query'],
    load: () => loadWhenNeeded(() => require('./commands/query') as typeof QueryCommand, () => import('./commands/query')).then((m) => m.registerQueryCommand),
  },
  {
    commands: ['aws'],
    load: () => loadWhenNeeded(() => require('./commands/aws') as typeof AwsCommands, () => import('./commands/aws')).then((m) => m.registerAwsCommands),
  },
  {
    commands: ['demo'],
    load: () => loadWhenNeeded(() => require('./commands/demo') as typeof DemoCommand, () => import('./commands/demo')).then((m) => m.registerDemoCommand),
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
    .showHelpAfterError()
    .exitOverride();
  const name = argv[2];
  const named = GROUPS.filter((g) => name !== undefined && g.commands.includes(name));
  for (const group of named.length > 0 ? named : GROUPS) (await group.load())(program);
  return program;
}

/** Errors a user can act on are printed as one line; anything else keeps its stack. */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode;
  if (err instanceof ConfigError) {
    console.error(`pipeline: configuration error: ${err.message}`);
    return 2;
  }
  if (err instanceof UserError) {
    console.error(`pipeline: ${err.message}`);
    return err.exitCode;
  }
  console.error(err);
  return 1;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await (await buildProgram(argv)).parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  }
}

if (require.main === module) {
  void main();
}
