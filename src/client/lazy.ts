/**
 * Loads a module when it is first needed, so that `pipeline status` does not pay for DuckDB, faker,
 * the AWS SDK and the Temporal worker at start-up (about 2 s of the 3 s a command took).
 *
 * Two kinds of loader run this code. The compiled client, and tsx's CommonJS hook (bin/pipeline on
 * the sources), load modules with `require`; tsx leaves `import()` to Node's ES module loader, which
 * cannot read .ts files. Vitest runs the sources as ES modules of its own, where `require` cannot read
 * them, so there the same module is loaded with `import()`. The loader is told apart by what it does
 * (a compiled file, or a `.ts` require hook), not by the environment, which child processes inherit.
 */
const requireLoadsSources = __filename.endsWith('.js') || typeof require.extensions?.['.ts'] === 'function';

export function loadWhenNeeded<T>(viaRequire: () => T, viaImport: () => Promise<T>): Promise<T> {
  return requireLoadsSources ? Promise.resolve().then(viaRequire) : viaImport();
}
