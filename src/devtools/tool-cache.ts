/** Where the project keeps tools it builds or resolves once per machine (temporal CLI, Java test server). */
import os from 'node:os';
import path from 'node:path';

export function toolCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'ecommerce-pipeline');
}
