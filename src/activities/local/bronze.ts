/**
 * Reading the bronze layer back: a batch's Parquet parts as one relation, every row with its source
 * line. The catalog stage writes bronze (catalog.ts); validate and transform read it through here.
 */
import type { Entity } from '../../shared/contract';
import type { Lake } from './lake';
import type { Sql } from './warehouse';
import { listLit } from './warehouse';

/**
 * A bronze row's `source_row` in a query over `read_parquet`: a part read from CSV in one pass is
 * written in file order without numbers (numbering while writing needs a window over the whole file,
 * which costs as much as the write), so its row number is its Parquet position plus 2 (the header
 * is row 1). Parts with gaps in their numbering (malformed lines kept apart, sheets) carry them.
 */
export const BRONZE_SOURCE_ROW = 'coalesce(source_row, file_row_number + 2)';

/** Bronze Parquet with every `source_row` filled in, as a subquery, so a filter on it sees the value. */
export function bronzeWithRows(scan: string): string {
  return `(SELECT * REPLACE (${BRONZE_SOURCE_ROW} AS source_row) FROM ${scan})`;
}

export function bronzeFiles(lake: Lake, entity: Entity, runDate: string): string[] {
  return lake.parquetFiles(lake.tableDir('bronze', entity, runDate));
}

/**
 * A batch's bronze Parquet as one relation. Bronze written before malformed rows were kept has no
 * `malformed_line` column; it reads as NULL there, so such a batch can still be validated and
 * transformed without a new catalog run.
 */
export async function bronzeRelation(db: Sql, files: string[]): Promise<string> {
  const scan = `read_parquet(${listLit(files)}, union_by_name=true)`;
  if (files.length === 0) return scan;
  const rows = bronzeWithRows(scan);
  const columns = await db.all(`DESCRIBE SELECT * FROM ${scan}`);
  return columns.some((c) => c.column_name === 'malformed_line') ? rows : `(SELECT *, NULL::VARCHAR AS malformed_line FROM ${rows})`;
}
