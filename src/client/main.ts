/**
 * `pipeline`: the command-line client. Each command group lives in its own module under commands/.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config';
import { UserError } from './errors';
import { registerAwsCommands } from './commands/aws';
import { registerDemoCommand } from './commands/demo';
import { registerGenerateCommand } from './commands/generate';
import { registerHistoryCommands } from './commands/history';
import { registerQueryCommand } from './commands/query';
import { registerRunCommands } from './commands/run';
import { registerScheduleCommands } from './commands/schedule';
import { registerWorkerCommand } from './commands/worker';

export function buildProgram(): Command {
  const program = new Command('pipeline')
    .description('Run and operate the daily e-commerce pipeline on Temporal')
    .showHelpAfterError()
    .exitOverride();
  registerWorkerCommand(program);
  registerRunCommands(program);
  registerHistoryCommands(program);
  registerScheduleCommands(program);
  registerGenerateCommand(program);
  registerQueryCommand(program);
  registerAwsCommands(program);
  registerDemoCommand(program);
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
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  }
}

if (require.main === module) {
  void main();
}
