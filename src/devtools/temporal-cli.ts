/**
 * Finds the `temporal` CLI (which runs the dev server and its Web UI) or builds it from source with Go:
 * nothing is downloaded from a website, only Go modules through the Go module proxy.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { findOnPath, isExecutable } from './executables';
import { toolCacheDir } from './tool-cache';

export function temporalCliCachePath(): string {
  return path.join(toolCacheDir(), 'bin', 'temporal');
}

export interface FindTemporalCliOptions {
  /** Build with Go when no binary is found (default true). */
  install?: boolean;
  /** Where go's progress goes (default: this process's stderr). */
  log?: (line: string) => void;
}

/** TEMPORAL_CLI_PATH, then PATH, then the cache; else built into the cache by scripts/ensure-temporal-cli.sh. */
export async function findTemporalCli(options: FindTemporalCliOptions = {}): Promise<string> {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (isExecutable(fromEnv)) return fromEnv;
    throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file; unset it or point it at a temporal CLI binary`);
  }
  const onPath = findOnPath('temporal');
  if (onPath) return onPath;
  const cached = temporalCliCachePath();
  if (isExecutable(cached)) return cached;
  if (options.install === false) {
    throw new Error(`no temporal CLI found (TEMPORAL_CLI_PATH, PATH, ${cached}); run: bash scripts/ensure-temporal-cli.sh`);
  }
  await buildTemporalCli(options.log ?? ((line) => process.stderr.write(`${line}\n`)));
  if (!isExecutable(cached)) throw new Error(`the build finished but ${cached} is missing`);
  return cached;
}

async function buildTemporalCli(log: (line: string) => void): Promise<void> {
  if (!findOnPath('go')) {
    throw new Error(
      `the temporal CLI is not installed and Go is not on PATH to build it. Install Go (1.21 or newer: go fetches the toolchain the CLI needs through the module proxy), ` +
        `or put a temporal binary (the version scripts/ensure-temporal-cli.sh names) on PATH or in TEMPORAL_CLI_PATH.`,
    );
  }
  // The script owns the build (version, flags, lock): CI and a second demo started meanwhile wait on
  // the same lock instead of building again, and Go's package list stays in a log file.
  const script = ensureScriptPath();
  const code = await new Promise<number | string>((resolve) => {
    const child = spawn('bash', [script], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split(/[\r\n]+/)) {
        if (line.trim()) log(line);
      }
    });
    child.once('error', (err) => resolve(err.message));
    child.once('exit', (c, signal) => resolve(signal ?? c ?? 'unknown'));
  });
  if (code !== 0) throw new Error(`building the temporal CLI failed (exit ${code}); its reason is in the lines above`);
}

/** scripts/ensure-temporal-cli.sh of this checkout, from src/devtools or dist/src/devtools. */
function ensureScriptPath(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'scripts', 'ensure-temporal-cli.sh');
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`scripts/ensure-temporal-cli.sh was not found above ${__dirname}; put a temporal binary on PATH or in TEMPORAL_CLI_PATH`);
}
