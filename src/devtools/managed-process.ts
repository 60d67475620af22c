/**
 * A long-running helper process (a Temporal server) that we own: started in its own process group so
 * that stopping it also stops whatever it forked, with the tail of its output kept for error messages.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';

const TAIL_LINES = 40;

export interface ManagedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Last lines the process wrote (stdout and stderr), for error messages. */
  tail(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<string>;
  hasExited(): boolean;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Every group still running when Node exits is killed, so a crashed test run leaves no servers behind. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

export function startManagedProcess(command: string, args: string[], options: SpawnOptions = {}): ManagedProcess {
  const child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (chunk: Buffer): void => {
    lines.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== ''),
    );
    if (lines.length > TAIL_LINES) lines.splice(0, lines.length - TAIL_LINES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  let done = false;
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => {
      done = true;
      lines.push(`could not start ${command}: ${err.message}`);
      resolve('spawn-error');
    });
    child.once('exit', (code, signal) => {
      done = true;
      if (child.pid !== undefined) liveGroups.delete(child.pid);
      const outcome = signal ?? String(code);
      // Its last words may still be in the pipes; 'close' comes once they are read, unless something
      // else in the group still holds them open.
      const fallback = setTimeout(() => resolve(outcome), 1_000);
      child.once('close', () => {
        clearTimeout(fallback);
        resolve(outcome);
      });
    });
  });
  if (child.pid !== undefined) {
    installExitHook();
    liveGroups.add(child.pid);
  }
  const pid = child.pid ?? -1;

  return {
    child,
    pid,
    tail: () => lines.join('\n'),
    exited,
    hasExited: () => done,
    async stop(graceMs = 10_000) {
      if (done || pid < 0) return;
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // The leader may exit before the rest of its group.
      killGroup(pid, 'SIGKILL');
    },
  };
}
