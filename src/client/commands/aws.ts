import type { Command } from 'commander';

export function registerAwsCommands(_program: Command): void {
  // Not yet implemented.
}
