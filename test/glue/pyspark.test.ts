/**
 * Runs the Glue job's pytest suite (glue/tests, on a local PySpark) as part of `npm test`, so the
 * Spark transform and the TypeScript side cannot drift apart unnoticed. The job runs the rules
 * rendered from src/shared for Spark: rendered here once, as `pipeline aws setup` uploads them, and
 * handed to the suite as PIPELINE_RULES_FILE. The job's Python (and the parity tests') is also held
 * to ruff: `ruff check` and `ruff format --check` (ruff.toml, ruff pinned in requirements-test.txt)
 * fail this suite on any finding.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rulesArtifactText, rulesFileName } from '../../src/rules/artifact';

const ROOT = path.resolve(__dirname, '../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'glue-rules-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function runPython(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', args, {
      cwd: ROOT,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

function runPytest(): Promise<{ code: number | null; output: string }> {
  const rulesFile = path.join(tmp, rulesFileName());
  writeFileSync(rulesFile, rulesArtifactText('spark'));
  return runPython(['-m', 'pytest', 'glue/tests', '-q', '-p', 'no:cacheprovider'], { PIPELINE_RULES_FILE: rulesFile });
}

/** ruff over the files ruff.toml includes (glue/, test/parity/support/*.py), with no cache left behind. */
const runRuff = (...args: string[]) => runPython(['-m', 'ruff', ...args, '--no-cache']);

describe('Glue job (PySpark) test suite', () => {
  it('passes on a local Spark', { timeout: 600_000 }, async () => {
    const { code, output } = await runPytest();
    const summary =
      output
        .trim()
        .split('\n')
        .filter((l) => /\d+ (passed|failed|error)/.test(l))
        .pop() ?? '(no pytest summary)';
    console.log(`pytest glue/tests: ${summary.replace(/=/g, '').trim()}`);
    expect(code, output.slice(-4000)).toBe(0);
    expect(summary).toMatch(/\b\d+ passed\b/);
    expect(summary).not.toMatch(/failed|error/);
  });
});

describe('Glue job Python: ruff', () => {
  it('ruff check finds nothing', async () => {
    const { code, output } = await runRuff('check');
    expect(code, output.slice(-4000)).toBe(0);
  });

  it('ruff format --check finds nothing to reformat', async () => {
    const { code, output } = await runRuff('format', '--check');
    console.log(`ruff format --check: ${output.trim().split('\n').pop()}`);
    expect(code, output.slice(-4000)).toBe(0);
  });
});
