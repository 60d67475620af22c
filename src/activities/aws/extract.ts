/**
 * The extract stage on S3: the gzip CSV is written to a scratch file on the worker, then sent with
 * one PutObject to raw/{entity}/{date}/extract-{entity}.csv.gz. An object appears only when its PUT
 * completes, so the sensor sees the previous extract or the new one, whole; an upload cut short
 * leaves nothing. One PUT takes up to 5 GB, far beyond a day of a shop's gzip CSV.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AwsConfig, ExtractConfig } from '../../config';
import type { ExtractPublisher } from '../extract/extract-entity';
import { extractEntity, extractKey } from '../extract/extract-entity';
import type { ExtractEntityInput, ExtractEntityResult } from '../types';
import { awsCall } from './aws-errors';

function bucketPublisher(s3: S3Client, config: AwsConfig): ExtractPublisher {
  return {
    async scratchFile(entity, runDate) {
      return path.join(os.tmpdir(), `ecommerce-extract-${entity}-${runDate}-${randomUUID()}.csv.gz`);
    },
    async publish(scratch, entity, runDate) {
      const key = extractKey(entity, runDate);
      const objectKey = `${config.prefix}${key}`;
      const size = fs.statSync(scratch).size;
      await awsCall(`s3://${config.bucket}/${objectKey}`, 'PutObject', () =>
        s3.send(
          new PutObjectCommand({
            Bucket: config.bucket,
            Key: objectKey,
            Body: fs.createReadStream(scratch),
            ContentLength: size,
            ContentType: 'text/csv',
          }),
        ),
      );
      fs.rmSync(scratch, { force: true });
      return key;
    },
    async discard(scratch) {
      fs.rmSync(scratch, { force: true });
    },
  };
}

export function extractToBucket(
  s3: S3Client,
  config: AwsConfig,
  extract: ExtractConfig | undefined,
  input: ExtractEntityInput,
): Promise<ExtractEntityResult> {
  return extractEntity(extract, input, bucketPublisher(s3, config));
}
