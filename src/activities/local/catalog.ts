/**
 * The catalog stage: every raw file of a date's three partitions becomes bronze Parquet under
 * `processed/bronze/{entity}/batch_date=D/`, all values as text plus lineage, and the warehouse's
 * `bronze.catalog` / `bronze.sources` tables record what was found.
 *
 * Lineage: `source_file` is the file name inside the partition (`book.xlsx[Sheet]` for a sheet);
 * `source_row` is the record's row number counting the header as row 1, so the first data record is
 * row 2. For CSV a record spanning lines (a quoted line break) is one row and blank lines are not
 * rows; for a sheet it is the sheet's own row number, counted from its header row as 1.
 *
 * A CSV file read in one pass is written in file order with `source_row` left NULL: its row number is
 * its Parquet row position plus 2, which readers get from the Parquet reader's `file_row_number`
 * (bronze.ts). Numbering rows while writing needs a window over the whole file, which took as
 * long as the write itself. Parts read record by record, and sheets, carry their numbers, since they
 * have gaps (malformed lines kept apart, blank sheet rows).
 *
 * Nothing is lost without a word: a CSV record that does not split into the header's fields is kept
 * in bronze as a `malformed_line` (the transform rejects it as `malformed_row`); a file that cannot
 * be read as a whole (not UTF-8, a truncated gzip) stops the stage naming it; and whatever the
 * partition holds that is not read (other kinds, folders, links, empty files, sheets that match no
 * contract column) is listed in the plan's `unread`, which the stage reports.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Entity } from '../../shared/contract';
import { ENTITIES } from '../../shared/contract';
import type { CatalogedTable, UnreadItem } from '../types';
import { invalidData } from '../errors';
import type { Lake, RawFile } from './lake';
import type { SheetRows } from '../workbook';
import { checkHeader, normaliseHeader, readWorkbook, sheetTable } from '../workbook';
import { checkGzipComplete, compressionOf, exactPath, probeCsv, readCarefully } from './raw-csv';
import type { Sql } from './warehouse';
import { PARQUET_TEXT, asEnum, ident, listLit, lit } from './warehouse';
import { bronzeWithRows } from './bronze';
import { columnNames } from '../../rules/verdicts';

/** One table-shaped source: a CSV file, or one sheet of a workbook. */
export interface Source {
  seq: number;
  sourceFile: string;
  file: RawFile;
  /** Normalised header names by position ('' for an unnamed column). */
  header: string[];
  sheet?: SheetSource;
}

/** A sheet's rows below its header row. */
export interface SheetSource {
  name: string;
  headerRow: number;
  rows: SheetRows['rows'];
}

export interface PartitionPlan {
  entity: Entity;
  files: RawFile[];
  sources: Source[];
  /** What the partition holds that is not read, with the reason. */
  unread: UnreadItem[];
}

const MAX_COLUMNS = 512;
const CSV_DIALECT = `delim=',', quote='"', escape='"', auto_detect=false`;

function varcharColumns(width: number): string {
  return `{${Array.from({ length: width }, (_, i) => `'c${i}': 'VARCHAR'`).join(', ')}}`;
}

async function csvHeader(file: RawFile): Promise<string[]> {
  const probe = await probeCsv(file);
  if (probe.problem) throw invalidData(`${file.key}: ${probe.problem}`, { file: file.key });
  // Every field counts, unnamed ones too: a header `a,b,c,` has four, as its rows `1,2,3,` do.
  if (probe.header.length >= MAX_COLUMNS) throw invalidData(`${file.key}: the header row has ${MAX_COLUMNS} or more columns`);
  return normaliseHeader(probe.header);
}

function csvScan(file: RawFile, width: number, options: string): string {
  return `read_csv(${lit(exactPath(file.absPath))}, ${CSV_DIALECT}, compression=${lit(compressionOf(file))}, columns=${varcharColumns(width)}, ${options})`;
}

/**
 * Lists a partition and checks every header before anything is written, so a bad file fails the
 * stage at once with its name and the missing columns.
 */
export async function planPartition(lake: Lake, entity: Entity, runDate: string): Promise<PartitionPlan> {
  const { files, unread } = lake.listRaw(entity, runDate);
  const sources: Source[] = [];
  for (const file of files) {
    if (file.size === 0) {
      unread.push({ key: file.key, reason: 'an empty file (0 bytes: no header, no rows)' });
      continue;
    }
    if (file.kind !== 'xlsx') {
      const header = await csvHeader(file);
      if (header.length === 0) {
        unread.push({ key: file.key, reason: 'no header row (only blank lines)' });
        continue;
      }
      checkHeader(entity, header, file.key);
      sources.push({ seq: sources.length, sourceFile: file.name, file, header });
      continue;
    }
    for (const sheet of await readWorkbook(file.absPath, file.key)) {
      const where = `${file.key}[${sheet.sheet}]`;
      const table = sheetTable(entity, sheet, where);
      if ('unread' in table) {
        unread.push({ key: where, reason: table.unread });
        continue;
      }
      const { header, headerRow, rows } = table;
      sources.push({
        seq: sources.length,
        sourceFile: `${file.name}[${sheet.sheet}]`,
        file,
        header,
        sheet: { name: sheet.sheet, headerRow, rows },
      });
    }
  }
  return { entity, files, sources, unread };
}

/** The source's file name, the same in each of its rows (see asEnum). */
const sourceFileColumn = (source: Source) => asEnum(lit(source.sourceFile), [source.sourceFile]);

/** From positional text columns c0..cN to bronze's shape: lineage, contract columns, extras. */
function bronzeProjection(entity: Entity, source: Source, rowExpr: string): string {
  const position = new Map(source.header.map((h, i) => [h, i] as [string, number]).filter(([h]) => h !== ''));
  const contract = columnNames(entity);
  const cols = contract.map((c) => (position.has(c) ? `c${position.get(c)} AS ${ident(c)}` : `NULL::VARCHAR AS ${ident(c)}`));
  const extras = [...position.entries()].filter(([h]) => !contract.includes(h));
  // Only a source with extra columns gets the `extra` column; readers combine parts by name.
  const extra = extras.length ? `, map(${listLit(extras.map(([h]) => h))}, [${extras.map(([, i]) => `c${i}`).join(', ')}]) AS extra` : '';
  return `${source.seq}::INTEGER AS source_seq, ${sourceFileColumn(source)} AS source_file, (${rowExpr})::BIGINT AS source_row, ${cols.join(', ')}${extra}, NULL::VARCHAR AS malformed_line`;
}

function emptyBronze(entity: Entity): string {
  const cols = columnNames(entity).map((c) => `NULL::VARCHAR AS ${ident(c)}`);
  return `SELECT NULL::INTEGER AS source_seq, NULL::VARCHAR AS source_file, NULL::BIGINT AS source_row, ${cols.join(', ')}, NULL::VARCHAR AS malformed_line LIMIT 0`;
}

async function writeCsvSource(db: Sql, entity: Entity, source: Source, out: string): Promise<void> {
  const width = source.header.length;
  // DuckDB's gzip reader stops quietly at a stream cut short at a line end; zlib reads to the marker.
  const complete = checkGzipComplete(source.file).then(
    () => undefined,
    (err: unknown) => err,
  );
  let refused: unknown;
  try {
    // Written in file order (DuckDB keeps insertion order): the row number is the Parquet position + 2.
    await db.run(
      `COPY (SELECT ${bronzeProjection(entity, source, 'NULL')} FROM ${csvScan(source.file, width, 'header=true')}) TO ${lit(out)} ${PARQUET_TEXT}`,
    );
  } catch (err) {
    refused = err;
  }
  const truncated = await complete;
  if (truncated) throw truncated;
  if (refused !== undefined) await writeCsvSourceCarefully(db, entity, source, out, refused);
}

/** The strict reader refused the file: read it record by record, keeping bad records as malformed lines. */
async function writeCsvSourceCarefully(db: Sql, entity: Entity, source: Source, out: string, refused: unknown): Promise<void> {
  const width = source.header.length;
  const scratch = `${out}.records.csv`;
  try {
    const read = await readCarefully(source.file, width, scratch);
    await db.run('CREATE OR REPLACE TEMP TABLE malformed_rows (row_no BIGINT, line VARCHAR)');
    const appender = await db.appender('malformed_rows');
    for (const m of read.malformed) {
      appender.appendBigInt(BigInt(m.row));
      appender.appendVarchar(m.text);
      appender.endRow();
    }
    appender.closeSync();
    const columns = `{'row_no': 'BIGINT', ${varcharColumns(width).slice(1)}`;
    // DuckDB's default longest line is 2 MB; a record is at most 3 bytes per UTF-16 unit, plus its row number.
    const lineBytes = Math.max(2_000_000, read.longest * 3 + 64);
    const good = `SELECT ${bronzeProjection(entity, source, 'row_no')}
      FROM read_csv(${lit(exactPath(scratch))}, header=false, ${CSV_DIALECT}, columns=${columns}, max_line_size=${lineBytes}, buffer_size=${Math.max(lineBytes * 2, 32 * 1024 * 1024)})`;
    const bad = `SELECT ${source.seq}::INTEGER AS source_seq, ${sourceFileColumn(source)} AS source_file, row_no AS source_row,
      ${columnNames(entity)
        .map((c) => `NULL::VARCHAR AS ${ident(c)}`)
        .join(', ')}, line AS malformed_line FROM malformed_rows`;
    try {
      await db.run(`COPY (SELECT * FROM (${good} UNION ALL BY NAME ${bad}) ORDER BY source_row) TO ${lit(out)} ${PARQUET_TEXT}`);
    } catch (err) {
      // Nothing the careful reading found explains the refusal: report what DuckDB said first.
      throw invalidData(`${source.file.key}: ${csvProblem(read.malformed.length ? err : refused, width)}`, { file: source.file.key });
    }
  } finally {
    await db.run('DROP TABLE IF EXISTS malformed_rows');
    fs.rmSync(scratch, { force: true });
  }
}

async function writeSheetSource(db: Sql, entity: Entity, source: Source, out: string): Promise<void> {
  const sheet = source.sheet!;
  const width = source.header.length;
  await db.run(
    `CREATE OR REPLACE TEMP TABLE xlsx_rows (row_no BIGINT, ${Array.from({ length: width }, (_, i) => `c${i} VARCHAR`).join(', ')})`,
  );
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
  await db.run(`COPY (SELECT ${bronzeProjection(entity, source, 'row_no')} FROM xlsx_rows ORDER BY row_no) TO ${lit(out)} ${PARQUET_TEXT}`);
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
    await db.run(`COPY (${emptyBronze(plan.entity)}) TO ${lit(out)} ${PARQUET_TEXT}`);
    return [];
  }
  const counts = await db.all(
    `SELECT source_seq, count(*) AS n FROM read_parquet(${listLit(parts)}, union_by_name=true) GROUP BY source_seq`,
  );
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
      await db.run(`INSERT INTO bronze.catalog VALUES ($1::DATE, $2, ${listLit(t.columns)}::VARCHAR[], $3, $4, $5, $6, now()::TIMESTAMP)`, [
        runDate,
        t.entity,
        t.files ?? 0,
        plans[i].sources.length,
        t.rowCount ?? 0,
        crawlId,
      ]);
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
    await refreshBronzeViews(db, lakeRoot);
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
async function refreshBronzeViews(db: Sql, lakeRoot: string): Promise<void> {
  // What every entity's view needs, in three lookups for all of them: a small day's catalog is mostly such statements.
  const headers = new Map(
    (
      await db.all('SELECT entity, list(DISTINCT h) AS hs FROM (SELECT entity, unnest(header) AS h FROM bronze.sources) GROUP BY entity')
    ).map((r) => [String(r.entity), (r.hs as unknown[]).map(String)] as [string, string[]]),
  );
  const columns = new Map(
    (await db.all(`SELECT table_name, list(column_name) AS cs FROM duckdb_columns() WHERE schema_name = 'bronze' GROUP BY table_name`)).map(
      (r) => [String(r.table_name), (r.cs as unknown[]).map(String)] as [string, string[]],
    ),
  );
  const views = new Map(
    (await db.all(`SELECT view_name, sql FROM duckdb_views() WHERE schema_name = 'bronze'`)).map(
      (r) => [String(r.view_name), String(r.sql)] as [string, string],
    ),
  );
  for (const entity of ENTITIES) {
    const contract = columnNames(entity);
    const wantsExtra = (headers.get(entity) ?? []).some((h) => h && !contract.includes(h));
    const has = columns.get(entity) ?? [];
    // Views made before row numbers came from the Parquet position are made again.
    const numbersRows = views.get(entity)?.includes('file_row_number') ?? false;
    if (has.length > 0 && has.includes('extra') === wantsExtra && numbersRows) continue;
    const glob = path.join(lakeRoot, 'processed', 'bronze', entity, '*', '*.parquet');
    await db.run(
      `CREATE OR REPLACE VIEW bronze.${entity} AS SELECT * FROM ${bronzeWithRows(`read_parquet(${lit(glob)}, hive_partitioning=true, union_by_name=true)`)}`,
    );
  }
}

export interface SourceInfo {
  seq: number;
  sourceFile: string;
  header: string[];
}

/** What the catalog recorded for a batch's partitions, per entity; an entity never catalogued is missing. */
export async function catalogedSources(db: Sql, runDate: string): Promise<Partial<Record<Entity, SourceInfo[]>>> {
  const rows = await db.all(
    `SELECT c.entity, s.source_seq, s.source_file, s.header FROM bronze.catalog c
     LEFT JOIN bronze.sources s ON s.batch_date = c.batch_date AND s.entity = c.entity
     WHERE c.batch_date = $1::DATE ORDER BY c.entity, s.source_seq`,
    [runDate],
  );
  const out: Partial<Record<Entity, SourceInfo[]>> = {};
  for (const r of rows) {
    const list = (out[r.entity as Entity] ??= []);
    if (r.source_seq !== null) list.push({ seq: Number(r.source_seq), sourceFile: String(r.source_file), header: r.header as string[] });
  }
  return out;
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
  if (line)
    return `line ${line}: ${text.split('\n').find((l) => l.trim() && !l.startsWith('CSV Error') && !l.includes('Error:')) ?? firstLine(err)}`;
  return firstLine(err);
}
