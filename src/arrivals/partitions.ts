/**
 * A date's three raw partitions as the awaitRawData sensor lists them, on either backend: the same
 * listing code (src/activities/local/lake.ts, src/activities/aws/s3.ts), so the watcher counts a
 * file exactly when the sensor does.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { Lake } from '../activities/local/lake';
import { listRawObjects } from '../activities/aws/s3';
import type { RawPartitionListing } from '../activities/types';
import type { AwsConfig } from '../config';
import type { Entity } from '../shared/contract';
import { ENTITIES, isEntity, isIsoDate } from '../shared/contract';

export type ListDate = (runDate: string) => Promise<RawPartitionListing[]>;

export function lakeFolderLister(lakeDir: string): ListDate {
  const lake = new Lake(lakeDir);
  return (runDate) => Promise.resolve(ENTITIES.map((entity) => lake.listing(entity, runDate)));
}

export function bucketLister(s3: S3Client, config: AwsConfig): ListDate {
  return (runDate) => Promise.all(ENTITIES.map((entity) => listRawObjects(s3, config, entity, runDate)));
}

/** The dates that have a partition folder in the lake (`raw/{entity}/{date}/`), oldest first. */
export function lakeFolderDates(lakeDir: string): string[] {
  const dates = new Set<string>();
  for (const entity of ENTITIES) {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(lakeDir, 'raw', entity));
    } catch {
      continue; // no partition of this entity yet
    }
    for (const name of names) if (isIsoDate(name)) dates.add(name);
  }
  return [...dates].sort();
}

/**
 * The partition a lake-relative key is in, when it is a file inside one
 * or below one (`raw/orders/2025-10-27/orders.csv`); anything else (another folder, a folder marker of raw/orders/) is not.
 */
export function partitionOfKey(key: string): { entity: Entity; runDate: string; name: string } | undefined {
  const m = /^raw\/([^/]+)\/([^/]+)\/(.+)$/.exec(key);
  if (!m || !isEntity(m[1]!) || !isIsoDate(m[2]!)) return undefined;
  return { entity: m[1], runDate: m[2]!, name: m[3]! };
}
