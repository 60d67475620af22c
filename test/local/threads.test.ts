/** A write turn's DuckDB threads follow the size of the day it works on, unless they are configured. */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalEngine, SMALL_DAY_BYTES } from '../../src/activities/local/engine';
import { localConfig, tempDir } from './support';

let engine: LocalEngine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

const threadsIn = async (e: LocalEngine, runDate?: string) =>
  Number((await e.exclusive({ runDate }, (db) => db.one(`SELECT current_setting('threads')::INTEGER AS n`))).n);

function rawDay(e: LocalEngine, date: string, bytes: number): void {
  const dir = e.lake.partitionDir('orders', date);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'orders.csv'), Buffer.alloc(bytes, 'x'));
}

describe('DuckDB threads of a write turn', () => {
  it('runs a small day on one thread and a large one on the default, and goes back', async () => {
    engine = new LocalEngine({ ...localConfig(tempDir('threads')), duckdbThreads: undefined });
    const initial = await threadsIn(engine);
    rawDay(engine, '2025-10-01', 10_000);
    rawDay(engine, '2025-10-02', SMALL_DAY_BYTES + 1);
    expect(await threadsIn(engine, '2025-10-01')).toBe(1);
    // A turn without a day (a tool's query) leaves the setting as the last day's turn left it.
    expect(await threadsIn(engine)).toBe(1);
    expect(await threadsIn(engine, '2025-10-02')).toBe(initial);
    expect(await threadsIn(engine, '2025-10-01')).toBe(1);
  });

  it('keeps the configured PIPELINE_DUCKDB_THREADS on every day', async () => {
    engine = new LocalEngine({ ...localConfig(tempDir('threads-set')), duckdbThreads: 2 });
    rawDay(engine, '2025-10-01', 10_000);
    expect(await threadsIn(engine, '2025-10-01')).toBe(2);
  });

  it('sizes a day whose raw files are gone by its bronze Parquet', async () => {
    engine = new LocalEngine({ ...localConfig(tempDir('threads-bronze')), duckdbThreads: undefined });
    const dir = engine.lake.tableDir('bronze', 'orders', '2025-10-03');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'part-00000.parquet'), Buffer.alloc(Math.ceil(SMALL_DAY_BYTES / 5) + 1));
    expect(engine.lake.dayBytes('2025-10-03')).toBeGreaterThan(SMALL_DAY_BYTES);
    rawDay(engine, '2025-10-04', 10);
    expect(engine.lake.dayBytes('2025-10-04')).toBe(10);
  });
});
