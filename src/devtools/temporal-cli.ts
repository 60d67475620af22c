/**
 * Finds the `temporal` CLI (which runs the dev server and its Web UI) or builds it from source with Go:
 * nothing is downloaded from a website, only Go modules through the Go module proxy.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { findOnPath, isExecutable } from './executables';
import { toolCacheDir } from './tool-cache';

export const TEMPORAL_CLI_VERSION = '1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

export function temporalCliCachePath(): string {
  return path.join(toolCacheDir(), 'bin', 'temporal');
}

export interface FindTemporalCliOptions {
  /** Build with Go when no binary is found (default true). */
  install?: boolean;
  /** Where go's progress goes (default: this process's stderr). */
  log?: (line: string) => void;
}

/** TEMPORAL_CLI_PATH, then PATH, then the cache; else `go install` into the cache. */
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
  await goInstallTemporalCli(path.dirname(cached), options.log ?? ((line) => process.stderr.write(`${line}\n`)));
  if (!isExecutable(cached)) throw new Error(`go install finished but ${cached} is missing`);
  return cached;
}

async function goInstallTemporalCli(binDir: string, log: (line: string) => void): Promise<void> {
  const go = findOnPath('go');
  if (!go) {
    throw new Error(
      `the temporal CLI is not installed and Go is not on PATH to build it. Install Go (1.21 or newer: go fetches the toolchain the CLI needs through the module proxy), ` +
        `or put a temporal ${TEMPORAL_CLI_VERSION} binary on PATH or in TEMPORAL_CLI_PATH.`,
    );
  }
  fs.mkdirSync(binDir, { recursive: true });
  const target = `${TEMPORAL_CLI_MODULE}@v${TEMPORAL_CLI_VERSION}`;
  log(`building the temporal CLI ${TEMPORAL_CLI_VERSION} with Go into ${binDir} (once per machine, takes a few minutes)...`);
  const args = ['install', '-v', `-ldflags=-X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION}`, target];
  // The CLI's SQLite is pure Go; without cgo no C compiler is needed.
  const env = { ...process.env, GOBIN: binDir, CGO_ENABLED: '0' };
  const code = await new Promise<number | string>((resolve) => {
    const child = spawn(go, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const forward = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) log(`  ${line}`);
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    child.once('error', (err) => resolve(err.message));
    child.once('exit', (c, signal) => resolve(signal ?? c ?? 'unknown'));
  });
  if (code !== 0) throw new Error(`go install ${target} failed (${code}); see go's output above`);
  log(`built ${path.join(binDir, 'temporal')}`);
}
