/**
 * Runs the Glue job's pytest suite (glue/tests, on a local PySpark) as part of `npm test`, so the
 * Spark transform and the TypeScript side cannot drift apart unnoticed. The job runs the rules
 * rendered from src/shared for Spark: rendered here once, as `pipeline aws setup` uploads them, and
 * handed to the suite as PIPELINE_RULES_FILE.
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

function runPytest(): Promise<{ code: number | null; output: string }> {
  const rulesFile = path.join(tmp, rulesFileName());
  writeFileSync(rulesFile, rulesArtifactText('spark'));
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-m', 'pytest', 'glue/tests', '-q', '-p', 'no:cacheprovider'], {
      cwd: ROOT,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PIPELINE_RULES_FILE: rulesFile },
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
  it('passes on a local Spark', { timeout: 600_000 }, async () => {
    const { code, output } = await runPytest();
    const summary = output.trim().split('\n').filter((l) => /\d+ (passed|failed|error)/.test(l)).pop() ?? '(no pytest summary)';
    console.log(`pytest glue/tests: ${summary.replace(/=/g, '').trim()}`);
    expect(code, output.slice(-4000)).toBe(0);
    expect(summary).toMatch(/\b\d+ passed\b/);
    expect(summary).not.toMatch(/failed|error/);
  });
});
