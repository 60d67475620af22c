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
import { badConfig, missingResource } from '../errors';
import type { PartitionPlan } from './catalog';
import { catalogedSources, planPartition, recordCatalog, writeBronze } from './catalog';
import { Lake } from './lake';
import type { LoadHooks, LoadResult } from './load';
import { loadBatch, verifyBatch } from './load';
import { runQualityChecks } from './quality';
import { ensureSchema } from './schema';
import type { TransformHooks, TransformOutput } from './transform';
import { transformBatch } from './transform';
import type { Sql, Warehouse } from './warehouse';
import { openWarehouse } from './warehouse';

export interface StageHooks {
  progress?: (fraction: number) => void;
  checkCancelled?: () => void;
  /** Called once the stage holds the warehouse's write turn. */
  onActive?: () => void;
}

export function checkRunDate(runDate: string): void {
  if (!isIsoDate(runDate)) throw badConfig(`run date ${JSON.stringify(runDate)} is not a calendar date written YYYY-MM-DD`);
}

export class LocalEngine {
  readonly lake: Lake;
  private opening: Promise<Warehouse>;

  constructor(readonly config: LocalConfig) {
    this.lake = new Lake(config.lakeDir);
    this.opening = this.open();
  }

  private open(): Promise<Warehouse> {
    const opening = openWarehouse(this.config).then(async (wh) => {
      await wh.exclusive(ensureSchema);
      // Holding the warehouse means no other worker writes this lake: what a killed job left staged is stale.
      this.lake.removeStaging();
      return wh;
    });
    // A failure to open surfaces in the first call that needs the warehouse, not as an unhandled rejection.
    opening.catch(() => undefined);
    return opening;
  }

  /** The open warehouse; a failed open (a lock held elsewhere, a permission since fixed) is tried again. */
  private get warehouse(): Promise<Warehouse> {
    this.opening = this.opening.catch(() => this.open());
    return this.opening;
  }

  /**
   * Resolves once the warehouse is open. Start activities wait for it, so a warehouse held by another
   * process fails the start itself (retryable: its retries may reach the worker that holds it)
   * rather than a job that would fail for an operator.
   */
  async ready(): Promise<void> {
    await this.warehouse;
  }

  /** Stops the statement running in the write turn; nothing to do when the warehouse never opened. */
  async interrupt(): Promise<void> {
    const wh = await this.warehouse.catch(() => undefined);
    wh?.interrupt();
  }

  /** Runs `work` in the warehouse's single write turn. */
  async exclusive<T>(hooks: StageHooks, work: (db: Sql) => Promise<T>): Promise<T> {
    const wh = await this.warehouse;
    return wh.exclusive(async (db) => {
      hooks.onActive?.();
      hooks.checkCancelled?.();
      return work(db);
    });
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
    for (const entity of ENTITIES) if (!(await catalogedSources(db, entity, runDate))) missing.push(entity);
    if (missing.length) throw missingResource(`${missing.join(', ')} for ${runDate} not catalogued: run the catalog stage for this date first`);
  }

  async quality(runDate: string, thresholds: QualityThresholds, queryId: string, hooks: StageHooks = {}): Promise<QualityResult[]> {
    checkRunDate(runDate);
    return this.exclusive(hooks, async (db) => {
      await this.requireCatalog(db, runDate);
      return runQualityChecks(db, this.lake, runDate, thresholds, queryId, (n) => hooks.progress?.(n / ENTITIES.length));
    });
  }

  async transform(runDate: string, etlRunId: string, hooks: TransformHooks & StageHooks = {}): Promise<TransformOutput> {
    checkRunDate(runDate);
    return this.exclusive(hooks, (db) => transformBatch(db, this.lake, runDate, etlRunId, hooks));
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
    try {
      await (await this.warehouse).close();
    } catch {
      // never opened: nothing to close
    }
  }
}
