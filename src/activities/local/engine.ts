/**
 * The local data engine: each stage as one awaitable call over the lake folder and the warehouse
 * file. The activities run these as background jobs; benchmarks and tests may call them directly.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Entity } from '../../shared/contract';
import { ENTITIES, isIsoDate } from '../../shared/contract';
import type { QualityResult, QualityThresholds } from '../../shared/quality';
import type { LocalConfig } from '../../config';
import type { CatalogedTable, ResultPage } from '../types';
import { ApplicationFailure } from '@temporalio/common';
import { badConfig, missingResource } from '../errors';
import type { PartitionPlan } from './catalog';
import { catalogedSources, planPartition, recordCatalog, writeBronze } from './catalog';
import { Lake } from './lake';
import type { LoadHooks, LoadResult } from './load';
import { loadBatch, verifyBatch } from './load';
import { runQualityChecks } from './validate';
import { ensureSchema } from './schema';
import type { TransformOutput } from './batch-manifest';
import type { TransformHooks } from './transform';
import { transformBatch } from './transform';
import type { Sql, Warehouse } from './warehouse';
import type { WarehouseHolder } from './warehouse';
import { holderPath, openWarehouse } from './warehouse';

export interface StageHooks {
  progress?: (fraction: number) => void;
  checkCancelled?: () => void;
  /** Called once the stage holds the warehouse's write turn. */
  onActive?: () => void;
  /** What the turn does, for readers waiting on the file ("catalog of 2025-10-27"). */
  work?: string;
  /** The run date the turn works on: waiting turns of earlier dates go first (see Warehouse.exclusive). */
  runDate?: string;
}

/** Below this many bytes of raw files a day's turns run on one DuckDB thread (see LocalEngine.fitThreads). */
export const SMALL_DAY_BYTES = 3 * 1024 * 1024;

export function checkRunDate(runDate: string): void {
  if (!isIsoDate(runDate)) throw badConfig(`run date ${JSON.stringify(runDate)} is not a calendar date written YYYY-MM-DD`);
}

export interface LocalEngineOptions {
  /**
   * How long the warehouse stays open after its last piece of work. Between stages the file is
   * closed, so `pipeline query` and any DuckDB client can read it; queued work (a backfill) keeps it
   * open and pays for one open only.
   */
  idleCloseMs?: number;
  /** How long a turn waits for the file while another process (a reader) holds it. */
  lockWaitMs?: number;
  /** Wraps the connection each write turn runs on (see WarehouseWrapper). */
  wrapWarehouse?: WarehouseWrapper;
  /** From how many bronze rows a batch is judged as a large one (default LARGE_FROM_ROWS; see verdicts.ts). */
  largeBatchRows?: number;
}

/**
 * Wraps the connection a write turn runs on, given the turn's label (StageHooks.work, e.g.
 * `load of 2025-10-27 (daily-pipeline-2025-10-27)`): for statement tracing, timing or fault
 * injection. It must pass every call through to `db`.
 */
export type WarehouseWrapper = (db: Sql, work: string | undefined) => Sql;

export class LocalEngine {
  readonly lake: Lake;
  private open?: Promise<Warehouse>;
  private users = 0;
  private idleTimer?: NodeJS.Timeout;
  private prepared = false;
  private closed = false;
  private readonly idleCloseMs: number;
  private readonly lockWaitMs: number;
  private readonly wrapWarehouse?: WarehouseWrapper;
  private readonly largeBatchRows?: number;
  /** Each open warehouse's default thread count and the one its turns run on now (see fitThreads). */
  private readonly threads = new WeakMap<Warehouse, { default: number; now: number }>();

  constructor(
    readonly config: LocalConfig,
    options: LocalEngineOptions = {},
  ) {
    this.lake = new Lake(config.lakeDir);
    this.idleCloseMs = options.idleCloseMs ?? 1_000;
    this.lockWaitMs = options.lockWaitMs ?? 60_000;
    this.wrapWarehouse = options.wrapWarehouse;
    this.largeBatchRows = options.largeBatchRows;
  }

  /** Opens the file (waiting a bounded time while a reader holds it) and, once per engine, prepares it. */
  private async openWarehouse(): Promise<Warehouse> {
    const deadline = Date.now() + this.lockWaitMs;
    for (;;) {
      try {
        const wh = await openWarehouse(this.config);
        try {
          if (!this.prepared) {
            await wh.exclusive(ensureSchema);
            // Holding the warehouse means no other worker writes this lake: what a killed job left staged is stale.
            this.lake.removeStaging();
            this.prepared = true;
          }
        } catch (err) {
          await wh.close();
          throw err;
        }
        return wh;
      } catch (err) {
        const busy = err instanceof ApplicationFailure && err.type === 'WarehouseBusy';
        if (!busy || Date.now() >= deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** The open warehouse, for one piece of work; `release` it when done. A failed open is tried again next time. */
  private async acquire(): Promise<Warehouse> {
    if (this.closed) throw new Error('the local engine is closed');
    this.users += 1;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (!this.open) {
      const opening = this.openWarehouse();
      this.open = opening;
      opening.catch(() => {
        if (this.open === opening) this.open = undefined;
      });
    }
    try {
      return await this.open;
    } catch (err) {
      this.users -= 1;
      throw err;
    }
  }

  private release(): void {
    this.users -= 1;
    if (this.users > 0 || !this.open) return;
    const open = this.open;
    this.idleTimer = setTimeout(() => {
      if (this.users > 0 || this.open !== open) return;
      this.open = undefined;
      void open.then((wh) => wh.close()).finally(() => this.clearHolder());
    }, this.idleCloseMs);
    this.idleTimer.unref();
  }

  private writeHolder(work: string | undefined): void {
    const holder: WarehouseHolder = { pid: process.pid, since: new Date().toISOString(), ...(work ? { work } : {}) };
    try {
      fs.writeFileSync(holderPath(this.config.warehousePath), JSON.stringify(holder));
    } catch {
      // Only a courtesy to waiting readers.
    }
  }

  private clearHolder(): void {
    fs.rmSync(holderPath(this.config.warehousePath), { force: true });
  }

  /**
   * Resolves once the warehouse can be opened. Start activities wait for it, so a warehouse held by
   * another process fails the start itself (retryable: its retries may reach the worker that holds
   * it) rather than a job that would fail for an operator.
   */
  async ready(): Promise<void> {
    await this.acquire();
    this.release();
  }

  /** Stops the statement running in the write turn; nothing to do when the warehouse is not open. */
  async interrupt(): Promise<void> {
    const wh = await this.open?.catch(() => undefined);
    wh?.interrupt();
  }

  /**
   * A small day's turn runs on one DuckDB thread, a larger one on DuckDB's default (every core):
   * a small day's statements are mostly fixed costs that a second thread only adds scheduling to,
   * and in a backfill the worker's other core is then free for the runs' orchestration
   * (bench:local with `--orders 30000`: 0.52 s on one thread, 0.62 s on two; 100,000: 0.84 s and
   * 0.72 s). A configured PIPELINE_DUCKDB_THREADS is always kept.
   */
  private async fitThreads(wh: Warehouse, db: Sql, runDate: string | undefined): Promise<void> {
    if (this.config.duckdbThreads || !runDate) return;
    let threads = this.threads.get(wh);
    if (!threads) {
      const row = await db.one(`SELECT current_setting('threads')::INTEGER AS n`);
      threads = { default: Number(row.n), now: Number(row.n) };
      this.threads.set(wh, threads);
    }
    const want = this.lake.dayBytes(runDate) < SMALL_DAY_BYTES ? 1 : threads.default;
    if (want === threads.now) return;
    await db.run(`SET threads = ${want}`);
    threads.now = want;
  }

  /** Runs `work` in the warehouse's single write turn. */
  async exclusive<T>(hooks: StageHooks, work: (db: Sql) => Promise<T>): Promise<T> {
    const wh = await this.acquire();
    try {
      return await wh.exclusive(async (db) => {
        this.writeHolder(hooks.work);
        hooks.onActive?.();
        hooks.checkCancelled?.();
        await this.fitThreads(wh, db, hooks.runDate);
        return work(this.wrapWarehouse ? this.wrapWarehouse(db, hooks.work) : db);
      }, hooks.runDate);
    } finally {
      this.release();
    }
  }

  /** Lists and checks the headers of the date's three partitions (throws invalidData on a bad one). */
  async planCatalog(runDate: string): Promise<PartitionPlan[]> {
    checkRunDate(runDate);
    this.lake.assertExists();
    const plans: PartitionPlan[] = [];
    for (const entity of ENTITIES) plans.push(await planPartition(this.lake, entity, runDate));
    return plans;
  }

  /** Writes bronze Parquet for every planned source and records the catalog. */
  async catalog(runDate: string, crawlId: string, plans?: PartitionPlan[], hooks: StageHooks = {}): Promise<CatalogedTable[]> {
    const planned = plans ?? (await this.planCatalog(runDate));
    const total = planned.reduce((n, p) => n + p.sources.length, 0) || 1;
    let done = 0;
    return this.exclusive(hooks, async (db) => {
      const staging = this.lake.stagingDir(crawlId);
      const counts: number[][] = [];
      try {
        for (const plan of planned) {
          const dir = path.join(staging, plan.entity);
          fs.mkdirSync(dir, { recursive: true });
          counts.push(
            await writeBronze(db, plan, dir, () => {
              hooks.checkCancelled?.();
              hooks.progress?.(0.9 * (++done / total));
            }),
          );
        }
        for (const plan of planned) this.lake.publish(path.join(staging, plan.entity), this.lake.tableDir('bronze', plan.entity, runDate));
      } finally {
        // A failed catalog leaves nothing staged to fill the disk.
        fs.rmSync(staging, { recursive: true, force: true });
      }
      return recordCatalog(db, this.lake.root, runDate, crawlId, planned, counts);
    });
  }

  private async requireCatalog(db: Sql, runDate: string): Promise<void> {
    const missing: Entity[] = [];
    const cataloged = await catalogedSources(db, runDate);
    for (const entity of ENTITIES) if (!cataloged[entity]) missing.push(entity);
    if (missing.length)
      throw missingResource(`${missing.join(', ')} for ${runDate} not catalogued: run the catalog stage for this date first`);
  }

  async quality(runDate: string, thresholds: QualityThresholds, queryId: string, hooks: StageHooks = {}): Promise<QualityResult[]> {
    checkRunDate(runDate);
    return this.exclusive(hooks, async (db) => {
      await this.requireCatalog(db, runDate);
      return runQualityChecks(
        db,
        this.lake,
        runDate,
        thresholds,
        queryId,
        (n) => hooks.progress?.(n / ENTITIES.length),
        this.largeBatchRows,
      );
    });
  }

  async transform(runDate: string, etlRunId: string, hooks: TransformHooks & StageHooks = {}): Promise<TransformOutput> {
    checkRunDate(runDate);
    return this.exclusive(hooks, (db) => transformBatch(db, this.lake, runDate, etlRunId, hooks, this.largeBatchRows));
  }

  async load(
    input: { runDate: string; etlRunId?: string; statementId: string; workflowId: string },
    hooks: LoadHooks & StageHooks = {},
  ): Promise<LoadResult> {
    checkRunDate(input.runDate);
    return this.exclusive(hooks, (db) => loadBatch(db, this.lake, input, hooks));
  }

  async verify(runDate: string, hooks: StageHooks = {}): Promise<ResultPage> {
    checkRunDate(runDate);
    return this.exclusive(hooks, (db) => verifyBatch(db, this.lake, runDate));
  }

  /** Any read-only query on the warehouse, for tests and tools (waits for writes before it). */
  async query(sql: string): Promise<Record<string, unknown>[]> {
    return this.exclusive({}, (db) => db.all(sql));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    const open = this.open;
    this.open = undefined;
    try {
      await (await open)?.close();
    } catch {
      // never opened: nothing to close
    } finally {
      if (open) this.clearHolder();
    }
  }
}
