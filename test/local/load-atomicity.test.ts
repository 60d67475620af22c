/**
 * The load is one transaction: a failure injected after any number of its statements leaves every
 * warehouse table exactly as it was, and the same load then succeeds.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sql, WarehouseWrapper } from '../../src/activities/local';
import type { LocalConfig } from '../../src/config';
import type { LocalTestBackend } from './support';
import { copyRaw, GOLDEN, GOLDEN_DATE, localConfig, open, runDay, runRef, settle, tempDir, warehouseState, writeRaw } from './support';

const NEXT = '2025-10-28';

/** The load's own transaction control, which is not one of its statements. */
const CONTROL = /^\s*(BEGIN TRANSACTION|COMMIT|ROLLBACK)\s*$/i;

/**
 * Wraps the load's write turn (the engine labels it `load of <date> (...)`) so that its statements
 * inside the transaction (the merge's `run`s, not its counting reads) throw once `n` of them ran.
 */
function failLoadAfterStatements(n: number): WarehouseWrapper {
  return (db: Sql, work: string | undefined): Sql => {
    if (!work?.startsWith('load of ')) return db;
    let inTransaction = false;
    let statements = 0;
    return {
      run: async (sql, params) => {
        const control = CONTROL.exec(sql)?.[1]?.toUpperCase();
        if (control) {
          inTransaction = control === 'BEGIN TRANSACTION';
        } else if (inTransaction) {
          if (statements >= n) throw new Error(`injected failure after ${statements} load statements`);
          statements++;
        }
        return db.run(sql, params);
      },
      all: (sql, params) => db.all(sql, params),
      one: (sql, params) => db.one(sql, params),
      appender: (table) => db.appender(table),
    };
  };
}

/** The load's statements (the merge, rejects, audit, then the marts' refresh): the last injection point is the final one. */
const LOAD_STATEMENTS = 20;

describe('load atomicity', () => {
  let root: string;
  let config: LocalConfig;
  let a: LocalTestBackend;
  let before: Record<string, string>;
  let etlRunId: string;

  beforeAll(async () => {
    root = tempDir('atomicity');
    config = localConfig(root);
    copyRaw(GOLDEN, config.lakeDir);
    // The next day replaces an order, moves another and adds a reject, so every table has work to do.
    writeRaw(
      config.lakeDir,
      'customers',
      NEXT,
      'c.csv',
      'customer_id,first_name,last_name,email,join_date,city,state\n1,Ada,King,ada@x.com,2025-01-15,London,ca\n',
    );
    writeRaw(config.lakeDir, 'products', NEXT, 'p.csv', 'product_id,product_name,category,price\n10,Widget,Tools,21.00\n');
    writeRaw(
      config.lakeDir,
      'orders',
      NEXT,
      'o.csv',
      'order_id,customer_id,product_id,order_date,order_amount,quantity\n100,1,10,2025-10-28,40.00,2\n200,1,10,2025-10-28,x,1\n',
    );
    a = open(config);
    await runDay(a, GOLDEN_DATE);
    before = await warehouseState(a);
    const catalog = runRef(NEXT, 'catalog');
    const { crawlId } = await a.startCrawl({ run: catalog });
    expect((await settle(() => a.getCrawlState({ run: catalog, crawlId }))).state).toBe('SUCCEEDED');
    const run = runRef(NEXT, 'transform');
    etlRunId = (await a.startEtlRun({ run })).etlRunId;
    expect((await settle(() => a.getEtlRunState({ run, etlRunId }))).state).toBe('SUCCEEDED');
    await a.close();
  });

  afterAll(async () => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it.each([0, 1, 3, 5, 8, 10, 12, 14, 17, LOAD_STATEMENTS - 1])('a failure after %i statements changes nothing', async (n) => {
    const broken = open(config, { wrapWarehouse: failLoadAfterStatements(n) });
    try {
      const run = runRef(NEXT, 'load', 100 + n);
      const { statementId } = await broken.startWarehouseStatements({ run, operation: 'load', etlRunId });
      const st = await settle(() => broken.getStatementState({ run, statementId }));
      expect(st.state).toBe('FAILED');
      expect(st.message).toContain(`injected failure after ${n} load statements`);
      expect(st.retryable).toBeUndefined();
      expect(await warehouseState(broken)).toEqual(before);
    } finally {
      await broken.close();
    }
  });

  it('the same load then succeeds and changes the warehouse', async () => {
    const ok = open(config);
    try {
      const run = runRef(NEXT, 'load', 1);
      const { statementId } = await ok.startWarehouseStatements({ run, operation: 'load', etlRunId });
      const st = await settle(() => ok.getStatementState({ run, statementId }));
      expect(st.state).toBe('SUCCEEDED');
      // the last injection point above is the final statement, so every step was covered
      expect(st.metrics?.statements).toBe(LOAD_STATEMENTS);
      const after = await warehouseState(ok);
      expect(after.fact_orders).not.toBe(before.fact_orders);
      expect(after.fact_orders).toContain('100,1,10,2025-10-28,40.00,2,,2025-10-28');
      expect(after.rejects).toContain('2025-10-28,orders,o.csv,3,bad_number');
    } finally {
      await ok.close();
    }
  });
});
