/**
 * Loads a module when it is first needed, so that `pipeline status` does not pay for DuckDB, faker,
 * the AWS SDK and the Temporal worker at start-up (about 2 s of the 3 s a command took).
 *
 * Two loaders run this code: tsx's CommonJS hook (bin/pipeline on the sources) and the compiled
 * client both load TypeScript or JavaScript with `require`, and tsx leaves `import()` to Node's ES
 * module loader, which cannot read .ts files. Vitest runs the sources as ES modules of its own, where
 * `require` cannot read them either, so there the same module is loaded with `import()`.
 */
export function loadWhenNeeded<T>(viaRequire: () => T, viaImport: () => Promise<T>): Promise<T> {
  return process.env.VITEST ? viaImport() : Promise.resolve().then(viaRequire);
}
