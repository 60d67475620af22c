/**
 * The catalog stage: every raw file of a date's three partitions becomes bronze Parquet under
 * `processed/bronze/{entity}/batch_date=D/`, all values as text plus lineage, and the warehouse's
 * `bronze.catalog` / `bronze.sources` tables record what was found.
 *
 * Lineage: `source_file` is the file name inside the partition (`book.xlsx[Sheet]` for a sheet);
 * `source_row` is the record's row number counting the header as row 1, so the first data record is
 * row 2. For CSV a record spanning lines (a quoted line break) is one row and blank lines are not
 * rows; for a sheet it is the sheet's own row number, counted from its header row as 1.
 */
import path from 'node:path';
import type { Entity } from '../../shared/contract';
import { COLUMNS, ENTITIES } from '../../shared/contract';
import type { CatalogedTable } from '../types';
import { invalidData } from '../errors';
import type { Lake, RawFile } from './lake';
import type { SheetRows } from './xlsx';
import { readWorkbook } from './xlsx';
import type { Sql } from './warehouse';
import { ident, lit, listLit } from './warehouse';
import { columnNames } from './rules';

/** One table-shaped source: a CSV file, or one sheet of a workbook. */
export interface Source {
  seq: number;
  sourceFile: string;
  file: RawFile;
  /** Normalised header names by position ('' for an unnamed column). */
  header: string[];
  sheet?: SheetRows;
}

export interface PartitionPlan {
  entity: Entity;
  files: RawFile[];
  sources: Source[];
  /** Sheets left out because their header has none of the entity's columns. */
  skippedSheets: string[];
}

const MAX_COLUMNS = 512;
const CSV_DIALECT = `delim=',', quote='"', escape='"', auto_detect=false`;

function varcharColumns(width: number): string {
  return `{${Array.from({ length: width }, (_, i) => `'c${i}': 'VARCHAR'`).join(', ')}}`;
}

export function normaliseHeader(cells: readonly (string | null)[]): string[] {
  return cells.map((c) => (c ?? '').replace(/\ufeff/g, '').trim().toLowerCase());
}

/** Names the contract needs that a header lacks, after checking no name appears twice. */
function checkHeader(entity: Entity, header: string[], where: string): void {
  const seen = new Set<string>();
  for (const name of header) {
    if (name && seen.has(name)) throw invalidData(`${where}: column '${name}' appears twice in the header (row 1)`);
    seen.add(name);
  }
  const missing = COLUMNS[entity].filter((c) => c.required && !seen.has(c.name)).map((c) => c.name);
  if (missing.length > 0) {
    throw invalidData(
      `${where}: header lacks ${entity} column(s) ${missing.join(', ')} (header row 1 has: ${header.filter(Boolean).join(', ') || 'nothing'})`,
      { file: where, missing },
    );
  }
}

/** Reading the header as 512 text columns costs ~30 ms a file; nearly every header fits in 64. */
const HEADER_PROBE_COLUMNS = [64, MAX_COLUMNS];

async function csvHeader(reader: Sql, file: RawFile): Promise<string[]> {
  if (file.size === 0) return [];
  for (const probe of HEADER_PROBE_COLUMNS) {
    let rows;
    try {
      rows = await reader.all(
        `SELECT * FROM read_csv(${lit(file.absPath)}, header=false, ${CSV_DIALECT}, columns=${varcharColumns(probe)},
           null_padding=true, strict_mode=false, parallel=false) LIMIT 1`,
      );
    } catch (err) {
      throw invalidData(`${file.key}: cannot read the header row: ${firstLine(err)}`);
    }
    if (rows.length === 0) return [];
    const cells = Array.from({ length: probe }, (_, i) => rows[0][`c${i}`] as string | null);
    let width = cells.length;
    while (width > 0 && (cells[width - 1] === null || cells[width - 1] === '')) width--;
    // A full probe may have cut the header short: read it again, wider.
    if (width < probe) return normaliseHeader(cells.slice(0, width));
  }
  throw invalidData(`${file.key}: the header row has ${MAX_COLUMNS} or more columns`);
}

/**
 * Lists a partition and checks every header before anything is written, so a bad file fails the
 * stage at once with its name and the missing columns.
 */
export async function planPartition(lake: Lake, reader: Sql, entity: Entity, runDate: string): Promise<PartitionPlan> {
  const { files } = lake.listRaw(entity, runDate);
  const sources: Source[] = [];
  const skippedSheets: string[] = [];
  const contract = new Set(columnNames(entity));
  for (const file of files) {
    if (file.kind === 'csv') {
      const header = await csvHeader(reader, file);
      if (header.length === 0) continue; // an empty file holds no rows to lose
      checkHeader(entity, header, file.key);
      sources.push({ seq: sources.length, sourceFile: file.name, file, header });
      continue;
    }
    for (const sheet of await readWorkbook(file.absPath, file.key)) {
      const header = normaliseHeader(sheet.header);
      const where = `${file.key}[${sheet.sheet}]`;
      if (!header.some((h) => contract.has(h))) {
        skippedSheets.push(where);
        continue;
      }
      checkHeader(entity, header, where);
      sources.push({ seq: sources.length, sourceFile: `${file.name}[${sheet.sheet}]`, file, header, sheet });
    }
  }
  return { entity, files, sources, skippedSheets };
}

/** From positional text columns c0..cN to bronze's shape: lineage, contract columns, extras. */
function bronzeProjection(entity: Entity, source: Source, rowExpr: string): string {
  const position = new Map(source.header.map((h, i) => [h, i] as [string, number]).filter(([h]) => h !== ''));
  const contract = columnNames(entity);
  const cols = contract.map((c) => (position.has(c) ? `c${position.get(c)} AS ${ident(c)}` : `NULL::VARCHAR AS ${ident(c)}`));
  const extras = [...position.entries()].filter(([h]) => !contract.includes(h));
  // Only a source with extra columns gets the `extra` column; readers combine parts by name.
  const extra = extras.length ? `, map(${listLit(extras.map(([h]) => h))}, [${extras.map(([, i]) => `c${i}`).join(', ')}]) AS extra` : '';
  return `${source.seq}::INTEGER AS source_seq, ${lit(source.sourceFile)} AS source_file, (${rowExpr})::BIGINT AS source_row, ${cols.join(', ')}${extra}`;
}

function emptyBronze(entity: Entity): string {
  const cols = columnNames(entity).map((c) => `NULL::VARCHAR AS ${ident(c)}`);
  return `SELECT NULL::INTEGER AS source_seq, NULL::VARCHAR AS source_file, NULL::BIGINT AS source_row, ${cols.join(', ')} LIMIT 0`;
}

const PARQUET = `(FORMAT parquet, COMPRESSION snappy)`;

async function writeCsvSource(db: Sql, entity: Entity, source: Source, out: string): Promise<void> {
  const width = source.header.length;
  const from = `read_csv(${lit(source.file.absPath)}, header=true, ${CSV_DIALECT}, columns=${varcharColumns(width)})`;
  try {
    // row_number() over the scan follows file order: the header is row 1, so data starts at 2.
    await db.run(`COPY (SELECT ${bronzeProjection(entity, source, 'row_number() OVER () + 1')} FROM ${from}) TO ${lit(out)} ${PARQUET}`);
  } catch (err) {
    throw invalidData(`${source.file.key}: ${csvProblem(err, width)}`);
  }
}

async function writeSheetSource(db: Sql, entity: Entity, source: Source, out: string): Promise<void> {
  const sheet = source.sheet!;
  const width = source.header.length;
  await db.run(`CREATE OR REPLACE TEMP TABLE xlsx_rows (row_no BIGINT, ${Array.from({ length: width }, (_, i) => `c${i} VARCHAR`).join(', ')})`);
  const appender = await db.appender('xlsx_rows');
  for (const row of sheet.rows) {
    appender.appendBigInt(BigInt(row.rowNumber - sheet.headerRow + 1));
    for (let i = 0; i < width; i++) {
      const cell = row.cells[i];
      if (cell === null || cell === undefined) appender.appendNull();
      else appender.appendVarchar(cell);
    }
    appender.endRow();
  }
  appender.closeSync();
  await db.run(`COPY (SELECT ${bronzeProjection(entity, source, 'row_no')} FROM xlsx_rows ORDER BY row_no) TO ${lit(out)} ${PARQUET}`);
  await db.run('DROP TABLE xlsx_rows');
}

/** Writes one entity's bronze Parquet into `dir` (one part per source); returns rows per source. */
export async function writeBronze(db: Sql, plan: PartitionPlan, dir: string, onSource?: () => void): Promise<number[]> {
  const parts: string[] = [];
  for (const source of plan.sources) {
    const out = path.join(dir, `part-${String(source.seq).padStart(5, '0')}.parquet`);
    if (source.sheet) await writeSheetSource(db, plan.entity, source, out);
    else await writeCsvSource(db, plan.entity, source, out);
    parts.push(out);
    onSource?.();
  }
  if (parts.length === 0) {
    const out = path.join(dir, 'part-00000.parquet');
    await db.run(`COPY (${emptyBronze(plan.entity)}) TO ${lit(out)} ${PARQUET}`);
    return [];
  }
  const counts = await db.all(`SELECT source_seq, count(*) AS n FROM read_parquet(${listLit(parts)}, union_by_name=true) GROUP BY source_seq`);
  const bySeq = new Map(counts.map((r) => [Number(r.source_seq), Number(r.n)]));
  return plan.sources.map((s) => bySeq.get(s.seq) ?? 0);
}

/** Replaces the batch's catalog rows and (re)creates the bronze views over every batch. */
export async function recordCatalog(
  db: Sql,
  lakeRoot: string,
  runDate: string,
  crawlId: string,
  plans: PartitionPlan[],
  rowCounts: number[][],
): Promise<CatalogedTable[]> {
  const tables: CatalogedTable[] = [];
  await db.run('BEGIN TRANSACTION');
  try {
    await db.run('DELETE FROM bronze.catalog WHERE batch_date = $1::DATE', [runDate]);
    await db.run('DELETE FROM bronze.sources WHERE batch_date = $1::DATE', [runDate]);
    plans.forEach((plan, i) => {
      const columns: string[] = [];
      for (const s of plan.sources) for (const h of s.header) if (h && !columns.includes(h)) columns.push(h);
      const rowCount = rowCounts[i].reduce((a, b) => a + b, 0);
      tables.push({ entity: plan.entity, columns, rowCount, files: plan.files.length });
    });
    for (const [i, t] of tables.entries()) {
      await db.run(
        `INSERT INTO bronze.catalog VALUES ($1::DATE, $2, ${listLit(t.columns)}::VARCHAR[], $3, $4, $5, $6, now()::TIMESTAMP)`,
        [runDate, t.entity, t.files ?? 0, plans[i].sources.length, t.rowCount ?? 0, crawlId],
      );
      for (const [j, s] of plans[i].sources.entries()) {
        await db.run(`INSERT INTO bronze.sources VALUES ($1::DATE, $2, $3, $4, $5, ${listLit(s.header)}::VARCHAR[], $6)`, [
          runDate,
          t.entity,
          s.seq,
          s.sourceFile,
          s.file.key,
          rowCounts[i][j],
        ]);
      }
    }
    for (const entity of ENTITIES) await refreshBronzeView(db, lakeRoot, entity);
    await db.run('COMMIT');
  } catch (err) {
    await db.run('ROLLBACK');
    throw err;
  }
  return tables;
}

/**
 * (Re)creates the view `bronze.<entity>` over every batch's Parquet when its columns would change.
 * The glob is expanded whenever the view is read, so a new batch needs no new view; creating one
 * reads every part's schema (union_by_name), which grows with the lake, so it is done only when the
 * view is missing or an `extra` column (a source with columns beyond the contract) came or went.
 */
async function refreshBronzeView(db: Sql, lakeRoot: string, entity: Entity): Promise<void> {
  const contract = columnNames(entity);
  const headers = await db.all('SELECT DISTINCT unnest(header) AS h FROM bronze.sources WHERE entity = $1', [entity]);
  const wantsExtra = headers.some((r) => r.h && !contract.includes(String(r.h)));
  const columns = (await db.all(`SELECT column_name FROM duckdb_columns() WHERE schema_name = 'bronze' AND table_name = $1`, [entity])).map((r) =>
    String(r.column_name),
  );
  if (columns.length > 0 && columns.includes('extra') === wantsExtra) return;
  const glob = path.join(lakeRoot, 'processed', 'bronze', entity, '*', '*.parquet');
  await db.run(`CREATE OR REPLACE VIEW bronze.${entity} AS SELECT * FROM read_parquet(${lit(glob)}, hive_partitioning=true, union_by_name=true)`);
}

export interface SourceInfo {
  seq: number;
  sourceFile: string;
  header: string[];
}

/** What the catalog recorded for a batch's partition; undefined when it was never catalogued. */
export async function catalogedSources(db: Sql, entity: Entity, runDate: string): Promise<SourceInfo[] | undefined> {
  const known = await db.all('SELECT 1 FROM bronze.catalog WHERE batch_date = $1::DATE AND entity = $2', [runDate, entity]);
  if (known.length === 0) return undefined;
  const rows = await db.all('SELECT source_seq, source_file, header FROM bronze.sources WHERE batch_date = $1::DATE AND entity = $2 ORDER BY source_seq', [
    runDate,
    entity,
  ]);
  return rows.map((r) => ({ seq: Number(r.source_seq), sourceFile: String(r.source_file), header: r.header as string[] }));
}

function firstLine(err: unknown): string {
  return ((err as Error).message ?? String(err)).split('\n')[0];
}

/** DuckDB's CSV error, cut to what a user needs: the line and what was wrong with it. */
function csvProblem(err: unknown, width: number): string {
  const text = (err as Error).message ?? String(err);
  const line = /CSV Error on Line: (\d+)/.exec(text)?.[1];
  const count = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(text);
  if (line && count) return `line ${line} has ${count[2]} fields but the header has ${width}`;
  if (line) return `line ${line}: ${text.split('\n').find((l) => l.trim() && !l.startsWith('CSV Error') && !l.includes('Error:')) ?? firstLine(err)}`;
  return firstLine(err);
}
