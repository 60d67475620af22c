import type { Command } from 'commander';

export function registerGenerateCommand(_program: Command): void {
  // Not yet implemented.
}
