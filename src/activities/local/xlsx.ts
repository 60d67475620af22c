/**
 * Reads Excel workbooks (exceljs) into rows of text, the way a CSV export of each sheet would hold
 * them: the only per-row JavaScript of the local engine, acceptable because workbooks are small.
 */
import ExcelJS from 'exceljs';
import { invalidData } from '../errors';

export interface SheetRows {
  sheet: string;
  /** Every non-empty row, in order: the sheet's row number and its cells as text (or null). The
   * catalog decides which is the header (title rows may stand above it). */
  rows: { rowNumber: number; cells: (string | null)[] }[];
}

export async function readWorkbook(absPath: string, displayName: string): Promise<SheetRows[]> {
  const book = new ExcelJS.Workbook();
  try {
    await book.xlsx.readFile(absPath);
  } catch (err) {
    throw invalidData(`${displayName}: not a readable .xlsx workbook (${(err as Error).message})`);
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
