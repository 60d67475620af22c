/**
 * A fresh clone installs as it is: `npm ci` accepts the committed lock (every platform's optional
 * native build present, nothing out of sync with package.json), and every dependency that ships an
 * install script has a recorded decision in package.json's `allowScripts`, so a clean install prints
 * no policy warning. Both are checked in a scratch copy of the three files npm reads.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');

interface LockEntry {
  version?: string;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
  hasInstallScript?: boolean;
  optionalDependencies?: Record<string, string>;
}
interface Lock {
  packages: Record<string, LockEntry>;
}

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8')) as T;

function npmCiDryRun(lockText: string): { status: number | null; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lock-check-'));
  try {
    for (const file of ['package.json', '.npmrc']) fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
    fs.writeFileSync(path.join(dir, 'package-lock.json'), lockText);
    const r = spawnSync('npm', ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, npm_config_loglevel: 'warn' },
    });
    return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('the committed lock', () => {
  const lockText = fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8');

  it('is accepted by `npm ci` as it is', () => {
    const r = npmCiDryRun(lockText);
    expect(r.output).not.toMatch(/Missing: |Invalid: |in sync/);
    expect(r.status).toBe(0);
  });

  it('is refused by `npm ci` when one platform build of a native package is missing (the check can fail)', () => {
    const lock = JSON.parse(lockText) as Lock;
    const platformBuild = Object.keys(lock.packages).find((key) => key.startsWith('node_modules/@duckdb/node-bindings-darwin'));
    expect(platformBuild, 'the lock holds the macOS builds of DuckDB').toBeDefined();
    delete lock.packages[platformBuild!];
    const r = npmCiDryRun(JSON.stringify(lock, null, 2));
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(`Missing: ${platformBuild!.replace('node_modules/', '')}@`);
  });

  it('holds every optional dependency of every locked package, for every platform', () => {
    const lock = JSON.parse(lockText) as Lock;
    const missing: string[] = [];
    for (const [key, entry] of Object.entries(lock.packages)) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        // npm places a dependency beside its dependent, or in a node_modules folder above it.
        const parents = key.split('/node_modules/').map((_, i, parts) => parts.slice(0, i + 1).join('/node_modules/'));
        const found = [...parents.map((p) => `${p}/node_modules/${name}`), `node_modules/${name}`].some((k) => k in lock.packages);
        if (!found) missing.push(`${name} (optional dependency of ${key || 'the project'})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('records an allowScripts decision for every package with an install script', () => {
    const lock = readJson<Lock>('package-lock.json');
    const allow = readJson<{ allowScripts?: Record<string, boolean> }>('package.json').allowScripts ?? {};
    const withScripts = new Set(
      Object.entries(lock.packages)
        .filter(([key, entry]) => key && entry.hasInstallScript)
        .map(([key]) => key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length)),
    );
    const decided = new Set(Object.keys(allow).map((spec) => spec.replace(/(?<=.)@.*$/, '')));
    expect([...withScripts].filter((name) => !decided.has(name))).toEqual([]);
    expect(
      [...decided].filter((name) => !withScripts.has(name)),
      'no stale entries',
    ).toEqual([]);
  });
});
