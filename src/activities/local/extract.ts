/**
 * The extract stage on the lake folder: the gzip CSV is written under raw/.extract-tmp/ (no entity's
 * partition, so neither the sensor nor the catalog ever lists it, even when a killed worker leaves
 * one behind) and renamed into raw/{entity}/{date}/ when complete. Same file system, so the rename is
 * atomic: the partition shows the previous extract or the new one, whole.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ExtractConfig } from '../../config';
import type { Entity } from '../../shared/contract';
import type { ExtractPublisher } from '../extract/extract-entity';
import { extractEntity, extractFileName, extractKey } from '../extract/extract-entity';
import type { ExtractEntityInput, ExtractEntityResult } from '../types';
import type { Lake } from './lake';

export const EXTRACT_SCRATCH_DIR = path.join('raw', '.extract-tmp');

function lakePublisher(lake: Lake): ExtractPublisher {
  const scratchDir = path.join(lake.root, EXTRACT_SCRATCH_DIR);
  return {
    async scratchFile(entity, runDate) {
      lake.assertExists();
      fs.mkdirSync(scratchDir, { recursive: true });
      // What an earlier attempt of this entity and date left (a killed worker) goes now.
      const mine = `${entity}-${runDate}-`;
      for (const name of fs.readdirSync(scratchDir)) if (name.startsWith(mine)) fs.rmSync(path.join(scratchDir, name), { force: true });
      return path.join(scratchDir, `${mine}${randomUUID()}.csv.gz.partial`);
    },
    async publish(scratch, entity: Entity, runDate) {
      const dir = lake.partitionDir(entity, runDate);
      fs.mkdirSync(dir, { recursive: true });
      fs.renameSync(scratch, path.join(dir, extractFileName(entity)));
      return extractKey(entity, runDate);
    },
    async discard(scratch) {
      fs.rmSync(scratch, { force: true });
    },
  };
}

export function extractToLake(lake: Lake, config: ExtractConfig | undefined, input: ExtractEntityInput): Promise<ExtractEntityResult> {
  return extractEntity(config, input, lakePublisher(lake));
}
