/**
 * The layers' arrows point one way: src/shared is the bottom (bundled into workflow code and used by
 * both backends), so nothing under it imports from src/activities or src/workflows, not even a type.
 * The aws backend imports nothing of the local backend or its notifier. Test code stays out of what
 * ships and of the benchmarks: nothing under src/ imports from test/ or tools/ (the fake backend
 * the tests and a benchmark share), nothing under bench/ from test/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.join(__dirname, '..', '..', 'src');
const SHARED = path.join(SRC, 'shared');
const ROOT = path.join(SRC, '..');
const ABOVE = ['activities', 'workflows'].map((d) => path.join(SRC, d));

/** `import ... from 'x'`, `export ... from 'x'`, `import 'x'`, `import('x')`, `require('x')`. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    // Caches (bench/.cache) hold data, not code.
    if (e.name.startsWith('.')) return [];
    const file = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(file);
    return /\.(ts|mts|cts|js)$/.test(e.name) ? [file] : [];
  });
}

function specifiers(source: string): string[] {
  return [...source.matchAll(SPECIFIER)].map((m) => m[1]!);
}

/** The relative imports of `file` that resolve into one of `dirs`, as `file imports specifier`. */
function importsInto(dirs: string[], file: string, from = SRC): string[] {
  return specifiers(fs.readFileSync(file, 'utf8'))
    .filter((s) => s.startsWith('.'))
    .filter((s) => {
      const target = path.resolve(path.dirname(file), s);
      return dirs.some((dir) => target === dir || target.startsWith(`${dir}${path.sep}`));
    })
    .map((s) => `${path.relative(from, file)} imports ${s}`);
}

const upwardImports = (file: string) => importsInto(ABOVE, file);

describe('import direction', () => {
  it('finds the imports of a file (the scanner itself)', () => {
    expect(
      specifiers(
        `import type { A } from '../activities/types';\nexport { b } from "./b";\nimport './c';\nconst d = require('../d');\nawait import('../workflows/e');`,
      ),
    ).toEqual(['../activities/types', './b', './c', '../d', '../workflows/e']);
  });

  it('nothing under src/shared imports from src/activities or src/workflows', () => {
    const files = sourceFiles(SHARED);
    expect(files.length).toBeGreaterThan(0);
    expect(files.flatMap(upwardImports)).toEqual([]);
  });

  it('the aws backend loads nothing of the local one (its fallback notifier is handed to it)', () => {
    const files = sourceFiles(path.join(SRC, 'activities', 'aws'));
    expect(files.length).toBeGreaterThan(0);
    const local = [path.join(SRC, 'activities', 'local'), path.join(SRC, 'activities', 'notify', 'local')];
    expect(files.flatMap((f) => importsInto(local, f))).toEqual([]);
  });

  it('nothing under src imports from test or tools', () => {
    const files = sourceFiles(SRC);
    const scaffolding = ['test', 'tools'].map((d) => path.join(ROOT, d));
    expect(files.flatMap((f) => importsInto(scaffolding, f, ROOT))).toEqual([]);
  });

  it('nothing under bench imports from test', () => {
    const files = sourceFiles(path.join(ROOT, 'bench'));
    expect(files.length).toBeGreaterThan(0);
    expect(files.flatMap((f) => importsInto([path.join(ROOT, 'test')], f, ROOT))).toEqual([]);
  });
});
