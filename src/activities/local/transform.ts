/**
 * The transform stage: one batch's bronze rows -> silver (cleaned, typed, with lineage), rejects (the
 * first failing reason, with the raw record) and gold (dimensions, facts, the batch's gold marts),
 * each written as Parquet under `processed/{layer}/{table}/batch_date=D/`, from the per-row verdicts
 * the rendered rules give (verdicts.ts; those validate wrote when their inputs are unchanged):
 * accepted rows to silver and gold, the others to rejects.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Entity } from '../../shared/contract';
import { ENTITIES } from '../../shared/contract';
import { missingResource } from '../errors';
import type { TransformOutput } from './batch-manifest';
import { GOLD_TABLES, writeBatchManifest } from './batch-manifest';
import type { SourceInfo } from './catalog';
import { catalogedSources } from './catalog';
import type { Lake } from './lake';
import { columnNames } from '../../rules/verdicts';
import { factsProfileColumns, factsProfileOf } from '../../rules/marts';
import { martSelects } from './sales';
import { batchBronze } from './bronze';
import { openVerdicts, ORD_SCALE } from './verdicts';
import type { Sql } from './warehouse';
import { PARQUET_TYPED, asEnum, ident, lit, runEach } from './warehouse';

/**
 * The raw record as JSON: each header name of the row's source with its value ('' for none); a
 * malformed line, which has no fields to name, as `{"line": <its text>}`.
 */
function rawRecordExpr(entity: Entity, sources: SourceInfo[]): string {
  const contract = new Set(columnNames(entity));
  if (sources.length === 0) return `'{}'`;
  const arms = sources.map((s) => {
    const pairs = s.header
      .filter((h) => h !== '')
      .map((h) => `${lit(h)}, coalesce(${contract.has(h) ? ident(h) : `extra[${lit(h)}]`}, '')`);
    return `WHEN ${s.seq} THEN json_object(${pairs.join(', ')})::VARCHAR`;
  });
  return `CASE WHEN malformed_line IS NOT NULL THEN json_object('line', malformed_line)::VARCHAR ELSE CASE (ord // ${ORD_SCALE}) ${arms.join(' ')} END END`;
}

function sourceFileExpr(sources: SourceInfo[]): string {
  if (sources.length === 0) return 'NULL::VARCHAR';
  const name = `CASE (ord // ${ORD_SCALE}) ${sources.map((s) => `WHEN ${s.seq} THEN ${lit(s.sourceFile)}`).join(' ')} END`;
  return asEnum(
    name,
    sources.map((s) => s.sourceFile),
  );
}

export interface TransformHooks {
  progress?: (fraction: number) => void;
  checkCancelled?: () => void;
}

export async function transformBatch(
  db: Sql,
  lake: Lake,
  runDate: string,
  etlRunId: string,
  hooks: TransformHooks = {},
  largeFromRows?: number,
): Promise<TransformOutput> {
  const startedAt = new Date().toISOString();
  const step = (fraction: number) => {
    hooks.checkCancelled?.();
    hooks.progress?.(fraction);
  };
  const sources = {} as Record<Entity, SourceInfo[]>;
  const cataloged = await catalogedSources(db, runDate);
  for (const entity of ENTITIES) {
    const found = cataloged[entity];
    if (!found) throw missingResource(`no catalog of ${entity} for ${runDate}: run the catalog stage for this date first`);
    sources[entity] = found;
  }
  const staging = lake.stagingDir(etlRunId);
  const staged: Record<string, string> = {};
  const out = (layer: string, table: string) => {
    const dir = path.join(staging, layer, table);
    staged[`${layer}/${table}`] = dir;
    return path.join(dir, 'part-00000.parquet');
  };
  const copy = (select: string, layer: string, table: string) => {
    const file = out(layer, table);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    return `COPY (${select}) TO ${lit(file)} ${PARQUET_TYPED}`;
  };

  const metrics: Record<string, number> = {};
  const verdicts = (entity: Entity) => `${entity}_verdicts`;
  try {
    const bronze = await batchBronze(db, lake, runDate);
    for (const entity of ENTITIES) {
      if (bronze[entity].files.length === 0)
        throw missingResource(
          `no bronze Parquet of ${entity} for ${runDate} in ${lake.tableDir('bronze', entity, runDate)}: run the catalog stage again`,
        );
    }
    step(0.1);
    const opened = await openVerdicts(db, lake, runDate, bronze, {
      jobId: etlRunId,
      largeFromRows,
      step: (done) => step(0.1 + (0.55 * done) / ENTITIES.length),
    });
    metrics.verdictsReused = opened.reused ? 1 : 0;
    metrics.verdictsComputed = opened.computed;

    const batch = `${lit(runDate)}::DATE`;
    for (const entity of ENTITIES) {
      const v = verdicts(entity);
      const counts =
        await db.one(`SELECT count(*) FILTER (WHERE reason IS NULL) AS loaded, count(*) FILTER (WHERE reason IS NOT NULL) AS rejected,
          coalesce(sum(copies - 1), 0) AS duplicates FROM ${v}`);
      const [loaded, rejected, duplicates] = [Number(counts.loaded), Number(counts.rejected), Number(counts.duplicates)];
      Object.assign(metrics, {
        [`${entity}.read`]: loaded + rejected + duplicates,
        [`${entity}.loaded`]: loaded,
        [`${entity}.rejected`]: rejected,
        [`${entity}.duplicates`]: duplicates,
      });
      const contract = columnNames(entity)
        .map((c) => `${ident(`t_${c}`)} AS ${ident(c)}`)
        .join(', ');
      await runEach(db, [
        copy(
          `SELECT ${contract}, ${sourceFileExpr(sources[entity])} AS source_file, (ord % ${ORD_SCALE})::BIGINT AS source_row, ${batch} AS batch_date
           FROM ${v} WHERE reason IS NULL`,
          'silver',
          entity,
        ),
        copy(`SELECT ${contract}, ${batch} AS batch_date FROM ${v} WHERE reason IS NULL`, 'gold', GOLD_TABLES[entity]),
        // The verdicts hold no raw text: a reject's raw record is read back from bronze by its lineage.
        copy(
          `SELECT ${batch} AS batch_date, ${lit(entity)} AS entity, ${sourceFileExpr(sources[entity])} AS source_file,
             (ord % ${ORD_SCALE})::BIGINT AS row_number, reason, ${rawRecordExpr(entity, sources[entity])} AS raw_record
           FROM (SELECT ord, reason FROM ${v} WHERE reason IS NOT NULL) JOIN raw_${entity} USING (ord) ORDER BY ord`,
          'rejects',
          entity,
        ),
      ]);
      step(0.75 + 0.07 * ENTITIES.indexOf(entity));
    }
    const facts = `(SELECT ${columnNames('orders')
      .map((c) => `${ident(`t_${c}`)} AS ${ident(c)}`)
      .join(', ')} FROM orders_verdicts WHERE reason IS NULL)`;
    // One read of the facts gives the revenue and what the marts' distinct counts are best computed by.
    const summary = await db.one(
      `SELECT coalesce(sum(order_amount), 0)::DECIMAL(18,2)::VARCHAR AS revenue, ${factsProfileColumns().join(', ')} FROM ${facts}`,
    );
    await runEach(
      db,
      martSelects(facts, batch, factsProfileOf(summary)).map((mart) => copy(mart.select, 'gold', mart.table)),
    );
    metrics['orders.revenue'] = Number(summary.revenue);
  } catch (err) {
    // A failed run leaves nothing staged to fill the disk.
    fs.rmSync(staging, { recursive: true, force: true });
    throw err;
  }

  // Silver and rejects first, gold last: a later batch's reference check reads gold dimensions.
  const folders: Record<string, string> = {};
  const order = Object.keys(staged).sort((a, b) => Number(a.startsWith('gold/')) - Number(b.startsWith('gold/')));
  for (const key of order) {
    const [layer, table] = key.split('/') as ['silver' | 'gold' | 'rejects', string];
    const target = lake.tableDir(layer, table, runDate);
    lake.publish(staged[key], target);
    folders[key] = target;
  }
  fs.rmSync(staging, { recursive: true, force: true });
  const output: TransformOutput = { runDate, etlRunId, metrics, folders, startedAt, finishedAt: new Date().toISOString() };
  // Written last: the load reads it to know which run produced the batch's Parquet and its counts.
  writeBatchManifest(lake, output);
  return output;
}
