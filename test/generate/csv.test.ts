import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { toCsv } from '../../src/generate/csv-file';

describe('toCsv', () => {
  it('writes exactly what csv-stringify writes, quoting only where RFC 4180 needs it', () => {
    const alphabet = ['a', 'Z', '1', ' ', ',', '"', '\n', '\r', ';', "'", 'é', '\t', ''];
    let state = 12345;
    const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const rows = Array.from({ length: 2000 }, () =>
      Array.from({ length: 1 + Math.floor(next() * 6) }, () =>
        Array.from({ length: Math.floor(next() * 6) }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''),
      ),
    );
    expect(toCsv(rows)).toBe(stringify(rows));
    expect(toCsv([['1', 'Chair, Blue', 'say "hi"', '']])).toBe('1,"Chair, Blue","say ""hi""",\n');
  });
});
