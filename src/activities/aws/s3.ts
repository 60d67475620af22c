/** S3: the raw-partition sensor and the metrics file the Glue job leaves behind. */
import { GetObjectCommand, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AwsConfig } from '../../config';
import type { Entity } from '../../shared/contract';
import { ENTITIES, rawPartitionPrefix, unreadFileReason } from '../../shared/contract';
import { invalidData } from '../errors';
import type { ListRawPartitionInput, RawObject, RawPartitionListing, UnreadItem } from '../types';
import { awsCall } from './aws-errors';
import { lakePaths } from './lake-paths';

export async function listRawPartition(s3: S3Client, config: AwsConfig, input: ListRawPartitionInput): Promise<RawPartitionListing> {
  const { entity, prefix, objects, ignored } = await listRawObjects(s3, config, input.entity, input.run.runDate);
  return { entity, prefix, objects, ignored };
}

/** Everything in the run's three partitions that neither the crawler nor the Glue job reads. */
export async function unreadInPartitions(s3: S3Client, config: AwsConfig, runDate: string): Promise<UnreadItem[]> {
  const listings = await Promise.all(ENTITIES.map((entity) => listRawObjects(s3, config, entity, runDate)));
  return listings.flatMap((l) => l.unread);
}

/** A partition's raw objects in name order, and what else it holds with the reason it is not read. */
export async function listRawObjects(
  s3: S3Client,
  config: AwsConfig,
  entity: Entity,
  runDate: string,
): Promise<RawPartitionListing & { unread: UnreadItem[] }> {
  const prefix = rawPartitionPrefix(entity, runDate);
  const fullPrefix = `${config.prefix}${prefix}`;
  const objects: RawObject[] = [];
  const unread: UnreadItem[] = [];
  await awsCall(`S3 bucket ${config.bucket} (s3://${config.bucket}/${fullPrefix})`, 'ListObjectsV2', async () => {
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: config.bucket, Prefix: fullPrefix })) {
      for (const o of page.Contents ?? []) {
        if (!o.Key || o.Key.endsWith('/')) continue; // folder markers
        const key = o.Key.slice(config.prefix.length);
        const name = key.slice(prefix.length);
        const reason = name.includes('/') ? 'in a sub-folder: partitions are not read recursively' : unreadFileReason(name);
        if (reason) unread.push({ key, reason });
        else objects.push({ key, size: o.Size ?? 0, lastModified: o.LastModified?.toISOString() });
      }
    }
  });
  const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  objects.sort(byKey);
  unread.sort(byKey);
  return { entity, prefix, objects, ignored: unread.map((u) => u.key), unread };
}

/**
 * Reads `processed/_metrics/batch_date=D/metrics.json`, written by the Glue job when it succeeds.
 * Returns undefined when the job left no file (an older job version); a malformed file is bad data.
 */
export async function readEtlMetrics(s3: S3Client, config: AwsConfig, runDate: string): Promise<Record<string, number> | undefined> {
  const key = lakePaths(config).metricsKey(runDate);
  const where = `s3://${config.bucket}/${key}`;
  let body: string;
  try {
    body = await awsCall(`S3 object ${where}`, 'GetObject', async () => {
      const out = await s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: key }));
      return (await out.Body?.transformToString('utf-8')) ?? '';
    });
  } catch (err) {
    if (/NoSuchKey/.test(String((err as Error).message))) return undefined;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw invalidData(`${where} is not JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw invalidData(`${where} must hold a JSON object of metric name to number`);
  const metrics: Record<string, number> = {};
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    // The job's own quality report (the Spark rendering of the gate) is not a metric.
    if (name === 'quality') continue;
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw invalidData(`${where}: metric ${name} is not a number (${JSON.stringify(value)})`);
    metrics[name] = value;
  }
  return metrics;
}
