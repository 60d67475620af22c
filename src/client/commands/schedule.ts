import type { Command } from 'commander';

export function registerScheduleCommands(_program: Command): void {
  // Not yet implemented.
}
