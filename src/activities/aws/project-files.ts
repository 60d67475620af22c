/**
 * Files the AWS backend ships from this checkout or image (the Glue job script, the Redshift SQL):
 * found in the first folder above `from` (this module's folder unless a caller passes its own) that
 * holds them, so the lookup works from src/ (tsx) and from dist/src/ (the image has /app/dist/src/...
 * beside /app/glue and /app/sql). Falls back to the checkout's path, which callers then report as
 * missing.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

export function projectFile(relative: string, from = __dirname): string {
  for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, relative);
    if (existsSync(candidate)) return candidate;
  }
  return path.resolve(from, '../../..', relative);
}
