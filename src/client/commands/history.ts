import type { Command } from 'commander';

export function registerHistoryCommands(_program: Command): void {
  // Not yet implemented.
}
