/** The gold dimensions' key index follows the lake: new, replaced and removed batches. */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalEngine } from '../../src/activities/local/engine';
import { knownKeysSql, syncDimensionKeys } from '../../src/activities/local/references';
import { lit } from '../../src/activities/local/warehouse';
import { localConfig, tempDir } from './support';

let engine: LocalEngine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

async function publish(e: LocalEngine, date: string, ids: number[]): Promise<void> {
  const dir = e.lake.tableDir('gold', 'dim_customers', date);
  fs.mkdirSync(dir, { recursive: true });
  const values = ids.map((id) => `(${id})`).join(', ');
  await e.query(`COPY (SELECT * FROM (VALUES ${values}) v(customer_id)) TO ${lit(path.join(dir, 'part-00000.parquet'))} (FORMAT parquet)`);
}

async function known(e: LocalEngine, runDate: string): Promise<number[]> {
  return e.exclusive({}, async (db) => {
    await syncDimensionKeys(db, e.lake, ['customers']);
    return (await db.all(`SELECT k FROM (${knownKeysSql('customers', runDate)}) ORDER BY k`)).map((r) => Number(r.k));
  });
}

describe('dimension key index', () => {
  it('knows the keys of earlier batches only, and follows batches published, replaced and removed', async () => {
    engine = new LocalEngine(localConfig(tempDir('dim-keys')));
    expect(await known(engine, '2025-10-02')).toEqual([]);
    await publish(engine, '2025-10-01', [1, 2]);
    await publish(engine, '2025-10-02', [3]);
    expect(await known(engine, '2025-10-02')).toEqual([1, 2]);
    expect(await known(engine, '2025-10-03')).toEqual([1, 2, 3]);

    // A rerun of 2025-10-01 republishes its dimension with other keys.
    await new Promise((r) => setTimeout(r, 20));
    await publish(engine, '2025-10-01', [1, 7]);
    expect(await known(engine, '2025-10-03')).toEqual([1, 3, 7]);

    fs.rmSync(engine.lake.tableDir('gold', 'dim_customers', '2025-10-02'), { recursive: true });
    expect(await known(engine, '2025-10-03')).toEqual([1, 7]);
  });
});
