import type { Command } from 'commander';

export function registerQueryCommand(_program: Command): void {
  // Not yet implemented.
}
