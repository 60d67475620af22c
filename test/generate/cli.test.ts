import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { buildProgram, reportError } from '../../src/client/main';

const lake = mkdtemp(path.join(os.tmpdir(), 'gen-cli-'));
afterAll(async () => rm(await lake, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

async function cli(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  // commander reports bad arguments on stderr directly.
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => err.push(String(chunk)) > 0);
  let code = 0;
  try {
    const argv = ['node', 'pipeline', ...args];
    await (await buildProgram(argv)).parseAsync(argv);
  } catch (e) {
    code = reportError(e);
  }
  vi.restoreAllMocks();
  return { out: out.join('\n'), err: err.join('\n'), code };
}

describe('pipeline generate', () => {
  it('writes a dirty day and prints what it injected, then refuses to overwrite it', async () => {
    const dir = await lake;
    const first = await cli('generate', '--date', '2025-10-27', '--dirty', '--lake', dir);
    expect(first.code).toBe(0);
    expect(first.out).toContain('2025-10-27: 200 customers, 50 products, 1,000 orders');
    for (const reason of [
      'missing_key',
      'bad_date',
      'bad_number',
      'out_of_range',
      'duplicate_key',
      'unknown_customer',
      'unknown_product',
      'exact_duplicate',
    ]) {
      expect(first.out).toMatch(new RegExp(`${reason}\\s.*\\d`));
    }
    const again = await cli('generate', '--date', '2025-10-27', '--lake', dir);
    expect(again.code).toBe(1);
    expect(again.err).toContain('refusing to overwrite 3 existing partition(s); pass --force');
    expect(again.err).toContain(path.join(dir, 'raw/orders/2025-10-27'));
    const forced = await cli('generate', '--date', '2025-10-27', '--lake', dir, '--force');
    expect(forced.code).toBe(0);
  });

  it('rejects a bad scale and a bad day count before writing anything', async () => {
    const dir = await lake;
    const scale = await cli('generate', '--date', '2025-10-28', '--scale', 'huge', '--lake', dir);
    expect(scale.code).not.toBe(0);
    expect(scale.err).toContain('expected one of small, seed001');
    const days = await cli('generate', '--date', '2025-10-28', '--days', '0', '--lake', dir);
    expect(days.err).toContain('expected a whole number from 1 to 366');
  });
});
