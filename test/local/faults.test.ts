/**
 * Faults of the machine rather than the data: a second worker on one warehouse, a full disk, staged
 * output of failed or lost jobs, a warehouse that could not be opened once. Each ends as a stage
 * failure naming the path, a retry that later succeeds, or a one-line refusal; never a dead worker
 * or a disk kept full.
 */
import { spawn, spawnSync } from 'node:child_process';
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

  it('6. a second worker on a warehouse in use refuses to start with one line; a busy warehouse is retryable, and opens once free', async () => {
    const config = fresh();
    goodDay(config.lakeDir, '2025-05-01');
    const first = open(config);
    await first.engine.query('SELECT 1'); // creates the file
    await first.close();
    const holder = await holdWarehouse(config.warehousePath);
    try {
      const r = spawnSync(path.join(ROOT, 'bin/pipeline'), ['worker'], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, PIPELINE_BACKEND: 'local', PIPELINE_WAREHOUSE_PATH: config.warehousePath, PIPELINE_LAKE_DIR: config.lakeDir, TEMPORAL_ADDRESS: '127.0.0.1:1' },
      });
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(
        new RegExp(
          `^pipeline: the worker did not start: PIPELINE_WAREHOUSE_PATH: ${config.warehousePath.replace(/[.]/g, '\\.')} is open in process ${holder.pid} \\(.*node\\): a DuckDB warehouse admits one worker; stop the other worker, or give each its own PIPELINE_WAREHOUSE_PATH$`,
        ),
      );

      const second = open(config);
      const err = await second.startCrawl({ run: runRef('2025-05-01', 'catalog') }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect((err as ApplicationFailure).type).toBe('WarehouseBusy');
      expect((err as ApplicationFailure).nonRetryable).toBe(false);

      await stop(holder);
      // The next attempt opens it: a failed open is not remembered for the worker's lifetime.
      const run = runRef('2025-05-01', 'catalog', 2);
      const { crawlId } = await second.startCrawl({ run });
      expect((await settle(() => second.getCrawlState({ run, crawlId }))).state).toBe('SUCCEEDED');
      await second.close();
    } finally {
      await stop(holder);
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
      expect(st.message).toMatch(new RegExp(`cannot write the job file ${jobsDir.replace(/[.]/g, '\\.')}/crawl-2025-05-02-[0-9a-f]+\\.json: ENOSPC: no space left on device`));
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
