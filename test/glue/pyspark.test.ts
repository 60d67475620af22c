/**
 * Runs the Glue job's pytest suite (glue/tests, on a local PySpark) as part of `npm test`, so the
 * Spark transform and the TypeScript side cannot drift apart unnoticed.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');

function runPytest(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-m', 'pytest', 'glue/tests', '-q', '-p', 'no:cacheprovider'], {
      cwd: ROOT,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('Glue job (PySpark) test suite', () => {
  it('passes on a local Spark', { timeout: 480_000 }, async () => {
    const { code, output } = await runPytest();
    const summary = output.trim().split('\n').filter((l) => /\d+ (passed|failed|error)/.test(l)).pop() ?? '(no pytest summary)';
    console.log(`pytest glue/tests: ${summary.replace(/=/g, '').trim()}`);
    expect(code, output.slice(-4000)).toBe(0);
    expect(summary).toMatch(/\b\d+ passed\b/);
    expect(summary).not.toMatch(/failed|error/);
  });
});
