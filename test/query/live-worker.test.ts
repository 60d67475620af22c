/**
 * `pipeline query` beside a live local worker: the worker holds the warehouse file only while a
 * stage writes, so a query between stages answers at once, and one during a write waits, saying for
 * which run and stage, then answers. The real CLI, in its own process, against a warehouse this test
 * process writes through the local backend's engine.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalConfig } from '../../src/config';
import type { LocalTestBackend } from '../local/support';
import { copyRaw, GOLDEN, GOLDEN_DATE, localConfig, open, runDay, tempDir } from '../local/support';

const CLI = path.resolve(__dirname, '../../bin/pipeline');

function query(
  config: LocalConfig,
  sql: string,
  extra: string[] = [],
): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(CLI, ['query', '--json', ...extra, sql], {
      env: { ...process.env, PIPELINE_WAREHOUSE_PATH: config.warehousePath },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => resolve({ code, out, err, ms: Date.now() - started }));
  });
}

describe('pipeline query beside a live worker', () => {
  let root: string;
  let config: LocalConfig;
  let a: LocalTestBackend;

  beforeAll(async () => {
    root = tempDir('live-query');
    config = localConfig(root);
    copyRaw(GOLDEN, config.lakeDir);
    a = open(config);
    await runDay(a, GOLDEN_DATE);
  });

  afterAll(async () => {
    await a?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('answers between stages, while the worker is up', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // past the worker's idle close
    const r = await query(config, 'SELECT count(*) AS n FROM analytics.fact_orders');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([{ n: expect.any(Number) }]);
    expect(JSON.parse(r.out)[0].n).toBeGreaterThan(0);
  });

  it('waits while a stage writes, naming the run and stage, then answers', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const holding = a.engine.exclusive({ work: `load of ${GOLDEN_DATE} (daily-pipeline-${GOLDEN_DATE})` }, () => gate);
    const pending = query(config, 'SELECT count(*) AS n FROM analytics.dim_customers');
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    release();
    await holding;
    const r = await pending;
    expect(r.code).toBe(0);
    expect(r.err).toMatch(
      new RegExp(
        `^pipeline: waiting for the worker: the warehouse is in use by load of ${GOLDEN_DATE} \\(daily-pipeline-${GOLDEN_DATE}\\) \\(process ${process.pid}, since `,
      ),
    );
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.ms).toBeGreaterThanOrEqual(2_000);
    expect(JSON.parse(r.out)[0].n).toBeGreaterThan(0);
  });

  it('gives up after --wait with one line saying who holds it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const holding = a.engine.exclusive({ work: `transform of ${GOLDEN_DATE} (daily-pipeline-${GOLDEN_DATE})` }, () => gate);
    try {
      const r = await query(config, 'SELECT 1', ['--wait', '1']);
      expect(r.code).toBe(1);
      expect(r.err.trim().split('\n').at(-1)).toMatch(
        new RegExp(
          `^pipeline: the warehouse ${config.warehousePath.replace(/[.]/g, '\\.')} is still being written by transform of ${GOLDEN_DATE} .*; try again when that stage has finished$`,
        ),
      );
      expect(r.err).not.toMatch(/\n\s+at /);
    } finally {
      release();
      await holding;
    }
  });
});
