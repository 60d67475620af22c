/** Where generated files go in the lake, and what is already there. */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Entity } from '../shared/contract';
import { ENTITIES, rawPartitionPrefix } from '../shared/contract';

export function partitionDir(lakeDir: string, entity: Entity, date: string): string {
  return path.join(lakeDir, rawPartitionPrefix(entity, date));
}

export function generatedFile(lakeDir: string, entity: Entity, date: string): string {
  return path.join(partitionDir(lakeDir, entity, date), `${entity}.csv`);
}

/** Scratch space inside the lake (same file system, so the final rename is atomic), one per process. */
export function scratchDir(lakeDir: string): string {
  return path.join(lakeDir, '.generate-tmp', String(process.pid));
}

async function filesIn(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export interface ExistingPartition {
  entity: Entity;
  date: string;
  dir: string;
  files: string[];
}

/** Partitions of these dates that already hold files. */
export async function existingPartitions(lakeDir: string, dates: string[]): Promise<ExistingPartition[]> {
  const found: ExistingPartition[] = [];
  for (const date of dates) {
    for (const entity of ENTITIES) {
      const dir = partitionDir(lakeDir, entity, date);
      const files = await filesIn(dir);
      if (files.length > 0) found.push({ entity, date, dir, files });
    }
  }
  return found;
}
