/**
 * The extract activity on the aws backend: a real PostgreSQL and a real moto S3 over HTTP. Each
 * entity's rows land as one gzip CSV in the bucket's raw partition, the sensor lists them, a rerun
 * replaces the object, and a failed extract leaves nothing in the bucket.
 */
import zlib from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsActivities } from '../../src/activities/aws';
import type { AwsActivities } from '../../src/activities/aws';
import type { AwsClients } from '../../src/activities/aws/clients';
import { createAwsClients, destroyAwsClients } from '../../src/activities/aws/clients';
import type { AwsConfig } from '../../src/config';
import { ENTITIES } from '../../src/shared/contract';
import type { MotoServer } from '../support/moto';
import { motoAwsConfig, startMoto, useMotoCredentials } from '../support/moto';
import { runRef, tempDir } from '../local/support';
import type { ShopDatabase } from './support';
import { DAY, EXPECTED, extractConfigFor, startShopDatabase } from './support';

let moto: MotoServer;
let shop: ShopDatabase;
let config: AwsConfig;
let clients: AwsClients;
let a: AwsActivities;

beforeAll(async () => {
  useMotoCredentials();
  [moto, shop] = await Promise.all([startMoto(), startShopDatabase()]);
  config = motoAwsConfig(moto.url);
  clients = createAwsClients(config);
  await clients.s3.send(new CreateBucketCommand({ Bucket: config.bucket }));
  a = createAwsActivities(config, {
    webUiUrl: 'http://127.0.0.1:8233',
    clients,
    extract: extractConfigFor(shop.url, tempDir('extract-s3')),
  });
}, 120_000);

afterAll(async () => {
  if (clients) destroyAwsClients(clients);
  await shop?.stop();
  await moto?.stop();
});

async function objectText(key: string): Promise<string> {
  const got = await clients.s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: `${config.prefix}${key}` }));
  return zlib.gunzipSync(Buffer.from(await got.Body!.transformToByteArray())).toString('utf8');
}

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: config.bucket, Prefix: `${config.prefix}${prefix}` }));
  return (listed.Contents ?? []).map((o) => o.Key!.slice(config.prefix.length)).sort();
}

describe('extract on the aws backend (moto S3)', () => {
  it('puts each entity as one gzip CSV object in its raw partition, which the sensor lists', async () => {
    for (const entity of ENTITIES) {
      const r = await a.extractEntity({ run: runRef(DAY, 'extract'), entity });
      if (!r.extracted) throw new Error(r.reason);
      expect(r.key).toBe(`raw/${entity}/${DAY}/extract-${entity}.csv.gz`);
      expect(await objectText(r.key)).toBe(EXPECTED[entity]);
      const listing = await a.listRawPartition({ run: runRef(DAY, 'awaitRawData'), entity });
      expect(listing.objects).toEqual([expect.objectContaining({ key: r.key, size: r.bytes })]);
    }
  });

  it('replaces the object on a rerun, leaves other objects of the partition, and writes nothing when the extract fails', async () => {
    await clients.s3.send(
      new PutObjectCommand({ Bucket: config.bucket, Key: `${config.prefix}raw/orders/${DAY}/late.csv`, Body: 'order_id\n999\n' }),
    );
    await shop.db.query('DELETE FROM shop.orders WHERE order_id = 100');
    try {
      const r = await a.extractEntity({ run: runRef(DAY, 'extract', 2), entity: 'orders' });
      expect(r).toMatchObject({ extracted: true, rows: 2 });
      expect(await objectText(`raw/orders/${DAY}/extract-orders.csv.gz`)).toBe(EXPECTED.orders.replace(/^100,.*\n/m, ''));
      expect(await keysUnder(`raw/orders/${DAY}/`)).toEqual([`raw/orders/${DAY}/extract-orders.csv.gz`, `raw/orders/${DAY}/late.csv`]);
    } finally {
      await shop.db.query(`INSERT INTO shop.orders VALUES (100, 1, 10, '${DAY}', 24.50, 1, '2025-10-29')`);
    }

    const typo = createAwsActivities(config, {
      webUiUrl: 'http://127.0.0.1:8233',
      clients,
      extract: extractConfigFor(shop.url, tempDir('extract-s3-typo'), { customers: { table: 'public.custmers' } }),
    });
    const err = await typo.extractEntity({ run: runRef('2025-10-29', 'extract'), entity: 'customers' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).message).toBe(
      'extract customers: relation "public.custmers" does not exist (table public.custmers)',
    );
    expect(await keysUnder('raw/customers/2025-10-29/')).toEqual([]);
  });
});
