/**
 * The layers' arrows point one way: src/shared is the bottom (bundled into workflow code and used by
 * both backends), so nothing under it imports from src/activities or src/workflows, not even a type.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.join(__dirname, '..', '..', 'src');
const SHARED = path.join(SRC, 'shared');
const ABOVE = ['activities', 'workflows'].map((d) => path.join(SRC, d));

/** `import ... from 'x'`, `export ... from 'x'`, `import 'x'`, `import('x')`, `require('x')`. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const file = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(file);
    return /\.(ts|mts|cts|js)$/.test(e.name) ? [file] : [];
  });
}

function specifiers(source: string): string[] {
  return [...source.matchAll(SPECIFIER)].map((m) => m[1]!);
}

function upwardImports(file: string): string[] {
  return specifiers(fs.readFileSync(file, 'utf8'))
    .filter((s) => s.startsWith('.'))
    .filter((s) => {
      const target = path.resolve(path.dirname(file), s);
      return ABOVE.some((dir) => target === dir || target.startsWith(`${dir}${path.sep}`));
    })
    .map((s) => `${path.relative(SRC, file)} imports ${s}`);
}

describe('import direction', () => {
  it('finds the imports of a file (the scanner itself)', () => {
    expect(specifiers(`import type { A } from '../activities/types';\nexport { b } from "./b";\nimport './c';\nconst d = require('../d');\nawait import('../workflows/e');`)).toEqual([
      '../activities/types',
      './b',
      './c',
      '../d',
      '../workflows/e',
    ]);
  });

  it('nothing under src/shared imports from src/activities or src/workflows', () => {
    const files = sourceFiles(SHARED);
    expect(files.length).toBeGreaterThan(0);
    expect(files.flatMap(upwardImports)).toEqual([]);
  });
});
