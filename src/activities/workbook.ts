/**
 * Excel workbooks as both backends read them: each sheet's rows as text, the way a CSV export of the
 * sheet would hold them (exceljs), and the data contract's header rules for a sheet. The local
 * catalog turns a matching sheet into bronze; the aws catalog stage turns it into a CSV object that
 * Athena reads (the Glue crawler has no classifier for workbooks). Per-row JavaScript, acceptable
 * because workbooks are small.
 */
import ExcelJS from 'exceljs';
import type { Entity } from '../shared/contract';
import { COLUMNS } from '../shared/contract';
import { invalidData } from './errors';

export interface SheetRows {
  sheet: string;
  /** Every non-empty row, in order: the sheet's row number and its cells as text (or null). The
   * catalog decides which is the header (title rows may stand above it). */
  rows: { rowNumber: number; cells: (string | null)[] }[];
}

/**
 * Reads every sheet of a workbook, from a file (local) or its bytes (an S3 object). The whole
 * workbook is held in memory while it is read. A file that is not a readable workbook is bad data:
 * one line naming it.
 */
export async function readWorkbook(source: string | Uint8Array, displayName: string): Promise<SheetRows[]> {
  const book = new ExcelJS.Workbook();
  try {
    if (typeof source === 'string') await book.xlsx.readFile(source);
    // exceljs types its argument with a Buffer of its own declaring; a Node Buffer is what it reads.
    else
      await book.xlsx.load(
        Buffer.from(source.buffer, source.byteOffset, source.byteLength) as unknown as Parameters<ExcelJS.Xlsx['load']>[0],
      );
  } catch (err) {
    const why = String((err as Error)?.message ?? err)
      .replace(/\s+/g, ' ')
      .trim();
    throw invalidData(`${displayName}: not a readable .xlsx workbook (${why})`, { file: displayName });
  }
  const sheets: SheetRows[] = [];
  for (const ws of book.worksheets) {
    const found: { rowNumber: number; cells: (string | null)[] }[] = [];
    ws.eachRow({ includeEmpty: false }, (row, rowNumber) => {
      const values = row.values as ExcelJS.CellValue[];
      const cells: (string | null)[] = [];
      for (let i = 1; i < values.length; i++) cells.push(cellText(values[i]));
      if (cells.some((c) => c !== null && c.trim() !== '')) found.push({ rowNumber, cells });
    });
    if (found.length === 0) continue; // an empty sheet holds nothing to lose
    sheets.push({ sheet: ws.name, rows: found });
  }
  return sheets;
}

/** One cell as the text a CSV export would hold. */
export function cellText(value: ExcelJS.CellValue): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return numberText(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return dateText(value);
  if ('richText' in value) return value.richText.map((r) => r.text).join('');
  if ('hyperlink' in value) return typeof value.text === 'string' ? value.text : cellText(value.text as ExcelJS.CellValue);
  if ('error' in value) return value.error;
  if ('result' in value) return value.result === undefined ? null : cellText(value.result as ExcelJS.CellValue);
  return null;
}

function numberText(n: number): string {
  if (Number.isInteger(n)) return BigInt(n).toString();
  const s = String(n);
  // Plain digits, never exponent notation, so "0.0000001" stays a number the contract accepts.
  return /e/i.test(s) ? n.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 }) : s;
}

/** Excel stores dates without a zone; exceljs hands them over as UTC. */
function dateText(d: Date): string {
  const iso = d.toISOString();
  const [day, time] = [iso.slice(0, 10), iso.slice(11, 23)];
  if (time === '00:00:00.000') return day;
  return `${day} ${time.endsWith('.000') ? time.slice(0, 8) : time}`;
}

// ---- the contract's header rules ------------------------------------------------------------------

/** How many non-empty rows of a sheet are searched for its header (title rows may stand above it). */
export const SHEET_HEADER_SEARCH = 10;

/** Header names as the contract spells them: trimmed, lower case, `Order ID` and `order-id` as `order_id`. */
export function normaliseHeader(cells: readonly (string | null)[]): string[] {
  return cells.map((c) =>
    (c ?? '')
      .replace(/\ufeff/g, '')
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, '_'),
  );
}

/** Fails naming `where` when a name appears twice in the header or a required contract column is missing. */
export function checkHeader(entity: Entity, header: string[], where: string): void {
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

/** A sheet that holds an entity's rows: its normalised header and the rows below it, as wide as the header. */
export interface SheetTable {
  /** Normalised header names by position ('' for an unnamed column). */
  header: string[];
  headerRow: number;
  rows: SheetRows['rows'];
}

/**
 * Reads a sheet against an entity's columns. The header is the first of the sheet's first
 * SHEET_HEADER_SEARCH rows that names a contract column; a sheet with none is not read (the reason
 * is returned, for the stage's unread list); a header naming some but lacking a required column, or
 * naming one twice, is bad data (thrown, naming `where`: `raw/.../book.xlsx[Sheet]`).
 */
export function sheetTable(entity: Entity, sheet: SheetRows, where: string): SheetTable | { unread: string } {
  const contract = new Set(COLUMNS[entity].map((c) => c.name));
  const at = sheet.rows.slice(0, SHEET_HEADER_SEARCH).findIndex((r) => normaliseHeader(r.cells).some((h) => contract.has(h)));
  if (at < 0) {
    const first = sheet.rows[0].cells
      .filter((c) => c !== null && c.trim() !== '')
      .slice(0, 5)
      .join(', ');
    return { unread: `a sheet with no ${entity} column in its first ${SHEET_HEADER_SEARCH} rows (first row: ${first})` };
  }
  const headerRow = sheet.rows[at];
  const header = normaliseHeader(headerRow.cells);
  checkHeader(entity, header, where);
  const width = header.length;
  const rows = sheet.rows
    .slice(at + 1)
    .map((r) => ({ rowNumber: r.rowNumber, cells: Array.from({ length: width }, (_, i) => r.cells[i] ?? null) }));
  return { header, headerRow: headerRow.rowNumber, rows };
}
