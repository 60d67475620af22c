/**
 * The real Trino server the Athena SQL tests stand on (Athena engine v3 is Trino): started once from the
 * tree scripts/setup/50-trino.sh prepares, on 127.0.0.1 on a port picked at run time, stopped at the end.
 */
import { existsSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadVarcharTable, startTrino, TrinoQueryError } from '../support/trino';
import type { TestTrino } from '../support/trino';

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('Trino 476 (memory connector)', () => {
  let trino: TestTrino;

  beforeAll(async () => {
    const start = process.hrtime.bigint();
    trino = await startTrino();
    console.log(`Trino started in ${(Number(process.hrtime.bigint() - start) / 1e9).toFixed(1)} s at ${trino.url}`);
  });

  afterAll(async () => {
    await trino?.stop();
  });

  it('listens on the loopback interface', () => {
    expect(trino.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('evaluates Trino functions with Trino semantics', async () => {
    const result = await trino.query(`SELECT regexp_like('12', '^[0-9]+$'), TRY_CAST('x' AS integer), count_if(true)`);
    expect(result.rows).toEqual([[true, null, 1]]);
    expect(result.columns.map((c) => c.type)).toEqual(['boolean', 'integer', 'bigint']);
  });

  it('loads varchar rows and reads them back, quotes and NULLs included', async () => {
    const rows: (string | null)[][] = [
      ['1', "O'Brien", 'a,b'],
      ['2', null, ''],
      ['3', 'line\nbreak', ' padded '],
    ];
    await loadVarcharTable(trino, 'raw_customers', ['id', 'name', 'note'], rows);
    const result = await trino.query('SELECT id, name, note FROM raw_customers ORDER BY id');
    expect(result.columns).toEqual([
      { name: 'id', type: 'varchar' },
      { name: 'name', type: 'varchar' },
      { name: 'note', type: 'varchar' },
    ]);
    expect(result.rows).toEqual(rows);
  });

  it('loads more rows than one INSERT batch holds', async () => {
    const rows = Array.from({ length: 2_500 }, (_, i) => [String(i), i % 7 === 0 ? null : `v'${i}`]);
    await loadVarcharTable(trino, 'raw_many', ['n', 'v'], rows);
    const result = await trino.query('SELECT count(*), count(v), max(CAST(n AS integer)) FROM raw_many');
    expect(result.rows).toEqual([[2_500, rows.filter((r) => r[1] !== null).length, 2_499]]);
  });

  it("rejects a bad statement with Trino's message", async () => {
    const failure = trino.query('SELEC 1');
    await expect(failure).rejects.toBeInstanceOf(TrinoQueryError);
    await expect(failure).rejects.toThrow(/line 1/);
    await expect(failure).rejects.toMatchObject({ errorName: 'SYNTAX_ERROR' });
    await expect(trino.query('SELECT no_such_column FROM raw_customers')).rejects.toMatchObject({
      errorName: 'COLUMN_NOT_FOUND',
      message: expect.stringContaining('no_such_column'),
    });
  });

  // Last: it stops the server the tests above share (afterAll's stop() is then a no-op).
  it('frees its port and its temp dir when stopped', async () => {
    expect(await connects(trino.port)).toBe(true);
    await trino.stop();
    expect(await connects(trino.port)).toBe(false);
    expect(existsSync(trino.dir)).toBe(false);
    await trino.stop(); // twice is harmless
  });
});
