/**
 * Reading the bronze layer back: a batch's Parquet parts as one relation, every row with its source
 * line. The catalog stage writes bronze (catalog.ts); validate and transform read it through here.
 */
import type { Entity } from '../../shared/contract';
import { ENTITIES } from '../../shared/contract';
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

export interface BronzeBatch {
  /** The batch's rows as one relation (a subquery over its Parquet parts). */
  relation: string;
  files: string[];
  rows: number;
}

/**
 * Each entity's bronze Parquet of a batch as one relation. Bronze written before malformed rows were
 * kept has no `malformed_line` column; it reads as NULL there, so such a batch can still be validated
 * and transformed without a new catalog run. One lookup of the parts' metadata serves every entity.
 */
export async function batchBronze(db: Sql, lake: Lake, runDate: string): Promise<Record<Entity, BronzeBatch>> {
  const files = Object.fromEntries(ENTITIES.map((e) => [e, bronzeFiles(lake, e, runDate)])) as Record<Entity, string[]>;
  const all = ENTITIES.flatMap((e) => files[e]);
  const parts = new Map(
    all.length === 0
      ? []
      : (
          await db.all(
            `SELECT file_name, num_rows, file_name IN (SELECT file_name FROM parquet_schema(${listLit(all)}) WHERE name = 'malformed_line') AS malformed
             FROM parquet_file_metadata(${listLit(all)})`,
          )
        ).map((r) => [String(r.file_name), { rows: Number(r.num_rows), malformed: r.malformed === true }] as const),
  );
  const out = {} as Record<Entity, BronzeBatch>;
  for (const entity of ENTITIES) {
    const scan = `read_parquet(${listLit(files[entity])}, union_by_name=true)`;
    const rows = bronzeWithRows(scan);
    let relation = scan;
    if (files[entity].length > 0)
      relation = files[entity].some((f) => parts.get(f)?.malformed) ? rows : `(SELECT *, NULL::VARCHAR AS malformed_line FROM ${rows})`;
    out[entity] = { relation, files: files[entity], rows: files[entity].reduce((n, f) => n + (parts.get(f)?.rows ?? 0), 0) };
  }
  return out;
}
