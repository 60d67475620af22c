/**
 * Faults of the machine rather than the data: a second worker on one warehouse, a full disk, staged
 * output of failed or lost jobs, a warehouse that could not be opened once. Each ends as a stage
 * failure naming the path, a retry that later succeeds, or a one-line refusal; never a dead worker
 * or a disk kept full.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LocalConfig } from '../../src/config';
import { localConfig, open, runRef, settle, tempDir, writeRaw } from './support';

const ROOT = path.resolve(__dirname, '../..');
const ORDERS = 'order_id,customer_id,product_id,order_date,order_amount,quantity';

function goodDay(lake: string, date: string): void {
  writeRaw(lake, 'customers', date, 'c.csv', 'customer_id,first_name,last_name,email,join_date,city,state\n1,A,B,a@b.c,2025-01-01,X,Y\n');
  writeRaw(lake, 'products', date, 'p.csv', 'product_id,product_name,category,price\n1,P,C,1.00\n');
  writeRaw(lake, 'orders', date, 'o.csv', `${ORDERS}\n1,1,1,2025-01-01,1.00,1\n`);
}

/** Another process holding the DuckDB file, as a second worker would. */
async function holdWarehouse(file: string): Promise<ChildProcess> {
  const script = `const { DuckDBInstance } = require('@duckdb/node-api');
    DuckDBInstance.create(${JSON.stringify(file)}).then(() => { console.log('held'); setInterval(() => {}, 1000); });`;
  const child = spawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => c.toString().includes('held') && resolve());
    child.once('exit', (code) => reject(new Error(`holder exited ${code}`)));
  });
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('faults (local backend)', () => {
  const roots: string[] = [];
  const fresh = (): LocalConfig => {
    const root = tempDir('faults');
    roots.push(root);
    return localConfig(root);
  };
  afterEach(() => {
    vi.restoreAllMocks();
    for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
  });

  it('6. two processes on one warehouse take turns: each holds the file only while it works; a turn waits a bounded time, then fails retryably', async () => {
    const config = fresh();
    goodDay(config.lakeDir, '2025-05-01');
    const first = open(config);
    await first.engine.query('SELECT 1'); // creates the file
    // Between turns the worker holds no lock: another process opens the file (as pipeline query or a second worker would).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const holder = await holdWarehouse(config.warehousePath);
    try {
      // A turn started while the other process holds the file waits for it, then runs.
      setTimeout(() => void stop(holder), 1_000);
      const run = runRef('2025-05-01', 'catalog');
      const started = Date.now();
      const { crawlId } = await first.startCrawl({ run });
      expect((await settle(() => first.getCrawlState({ run, crawlId }))).state).toBe('SUCCEEDED');
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    } finally {
      await stop(holder);
      await first.close();
    }

    // Held for longer than the bound: the start activity fails retryably, and a later attempt opens it.
    const { createLocalActivities } = await import('../../src/activities/local');
    const impatient = createLocalActivities(config, { webUiUrl: 'http://127.0.0.1:8233', lockWaitMs: 500 });
    const second = await holdWarehouse(config.warehousePath);
    try {
      const err = await impatient.startCrawl({ run: runRef('2025-05-01', 'catalog', 2) }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect((err as ApplicationFailure).type).toBe('WarehouseBusy');
      expect((err as ApplicationFailure).nonRetryable).toBe(false);
      expect((err as Error).message).toMatch(
        new RegExp(`^PIPELINE_WAREHOUSE_PATH: ${config.warehousePath.replace(/[.]/g, '\\.')} is open in process ${second.pid} \\(`),
      );
      await stop(second);
      const run = runRef('2025-05-01', 'catalog', 3);
      const { crawlId } = await impatient.startCrawl({ run });
      expect((await settle(() => impatient.getCrawlState({ run, crawlId }))).state).toBe('SUCCEEDED');
    } finally {
      await stop(second);
      await impatient.close();
    }
  });

  it('7. a full disk fails the job naming its file and leaves the worker running; failed jobs leave nothing staged', async () => {
    const config = fresh();
    goodDay(config.lakeDir, '2025-05-02');
    const a = open(config);
    try {
      const jobsDir = `${config.warehousePath}.jobs`;
      await a.engine.query('SELECT 1');
      const realWrite = fs.writeFileSync;
      vi.spyOn(fs, 'writeFileSync').mockImplementation((file, data, options) => {
        if (String(file).startsWith(jobsDir) && String(file).endsWith('.tmp')) {
          throw Object.assign(new Error(`ENOSPC: no space left on device, open '${String(file)}'`), { code: 'ENOSPC' });
        }
        return realWrite(file, data, options);
      });
      const run = runRef('2025-05-02', 'catalog');
      const { crawlId } = await a.startCrawl({ run });
      const st = await settle(() => a.getCrawlState({ run, crawlId }));
      expect(st.state).toBe('FAILED');
      expect(st.retryable).toBe(true);
      expect(st.message).toMatch(
        new RegExp(
          `cannot write the job file ${jobsDir.replace(/[.]/g, '\\.')}/crawl-2025-05-02-[0-9a-f]+\\.json: ENOSPC: no space left on device`,
        ),
      );
      vi.restoreAllMocks();
      expect(process.exitCode ?? 0).toBe(0);

      // A catalog that fails part-way (a gzip cut short past its first bytes) removes what it had staged.
      const gz = zlib.gzipSync(`${ORDERS}\n${'1,1,1,2025-01-01,1.00,1\n'.repeat(50_000)}`);
      writeRaw(config.lakeDir, 'orders', '2025-05-02', 'late.csv.gz', gz.subarray(0, gz.length - 20) as unknown as string);
      const again = runRef('2025-05-02', 'catalog', 2);
      const failed = await a.startCrawl({ run: again }).then((h) => settle(() => a.getCrawlState({ run: again, crawlId: h.crawlId })));
      expect(failed.state).toBe('FAILED');
      expect(failed.message).toMatch(/late\.csv\.gz: is truncated/);
      const staging = path.join(config.lakeDir, 'processed', '_staging');
      expect(fs.existsSync(staging) ? fs.readdirSync(staging) : []).toEqual([]);
    } finally {
      await a.close();
    }

    // What a killed worker left staged is removed when the next worker opens the warehouse.
    const stale = path.join(config.lakeDir, 'processed', '_staging', 'etl-2025-05-02-killed', 'silver');
    fs.mkdirSync(stale, { recursive: true });
    fs.writeFileSync(path.join(stale, 'part-00000.parquet'), 'x'.repeat(1000));
    const next = open(config);
    await next.engine.query('SELECT 1');
    expect(fs.existsSync(path.join(config.lakeDir, 'processed', '_staging'))).toBe(false);
    await next.close();
  });
});
