/**
 * The rules of `pipeline watch` that need no server: when a date counts as complete and quiet, what an
 * S3 notification names, and which keys are in a date's partitions.
 */
import { describe, expect, it } from 'vitest';
import type { RawPartitionListing } from '../../src/activities/types';
import { partitionOfKey } from '../../src/arrivals/partitions';
import { ArrivalTracker, missingEntities } from '../../src/arrivals/readiness';
import { parseS3Notification } from '../../src/arrivals/s3-events';
import { outcomeLine } from '../../src/arrivals/watcher';
import type { Entity } from '../../src/shared/contract';

const D = '2025-10-27';

function listing(
  files: Partial<Record<Entity, { name: string; size?: number; at?: string }[]>>,
  ignored: string[] = [],
): RawPartitionListing[] {
  return (['customers', 'products', 'orders'] as const).map((entity) => ({
    entity,
    prefix: `raw/${entity}/${D}/`,
    objects: (files[entity] ?? []).map((f) => ({ key: `raw/${entity}/${D}/${f.name}`, size: f.size ?? 10, lastModified: f.at ?? 't0' })),
    ignored: ignored.filter((k) => k.startsWith(`raw/${entity}/`)),
  }));
}

const all = { customers: [{ name: 'c.csv' }], products: [{ name: 'p.csv' }], orders: [{ name: 'o.csv' }] };

describe('when a date is ready', () => {
  it('needs a data file in each of the three partitions', () => {
    expect(missingEntities(listing({ orders: [{ name: 'o.csv' }] }))).toEqual(['customers', 'products']);
    const t = new ArrivalTracker(1_000);
    expect(t.observe(D, listing({ orders: [{ name: 'o.csv' }] }), 0)).toEqual({ state: 'incomplete', missing: ['customers', 'products'] });
    expect(t.observe(D, listing(all), 5_000)).toMatchObject({ state: 'settling', remainingMs: 1_000 });
    expect(t.observe(D, listing(all), 6_000)).toMatchObject({ state: 'ready', quietForMs: 1_000 });
  });

  it('waits the quiet period again after any change: a file growing, a new file, a file beside them, a notification', () => {
    const t = new ArrivalTracker(1_000);
    t.observe(D, listing(all), 0);
    expect(t.observe(D, listing({ ...all, orders: [{ name: 'o.csv', size: 20 }] }), 900).state).toBe('settling');
    expect(t.observe(D, listing({ ...all, orders: [{ name: 'o.csv', size: 20 }] }), 1_800).state).toBe('settling');
    expect(t.observe(D, listing({ ...all, orders: [{ name: 'o.csv', size: 20, at: 't1' }] }), 1_900).state).toBe('settling');
    expect(
      t.observe(D, listing({ ...all, orders: [{ name: 'o.csv', size: 20, at: 't1' }] }, [`raw/orders/${D}/o2.csv.part`]), 2_800).state,
    ).toBe('settling');
    t.touch(D, 3_700);
    expect(
      t.observe(D, listing({ ...all, orders: [{ name: 'o.csv', size: 20, at: 't1' }] }, [`raw/orders/${D}/o2.csv.part`]), 4_000).state,
    ).toBe('settling');
    expect(
      t.observe(D, listing({ ...all, orders: [{ name: 'o.csv', size: 20, at: 't1' }] }, [`raw/orders/${D}/o2.csv.part`]), 4_700).state,
    ).toBe('ready');
  });

  it('acts once on the same files: a repeated notification finds them handled; a new file is news', () => {
    const t = new ArrivalTracker(100);
    t.observe(D, listing(all), 0);
    const ready = t.observe(D, listing(all), 200);
    if (ready.state !== 'ready') throw new Error(ready.state);
    t.handled(D, ready.signature);
    expect(t.pending()).toEqual([]);
    t.touch(D, 300);
    expect(t.pending()).toEqual([D]);
    expect(t.observe(D, listing(all), 500)).toEqual({ state: 'handled' });
    expect(t.pending()).toEqual([]);
    t.touch(D, 600);
    expect(t.observe(D, listing({ ...all, orders: [{ name: 'o.csv' }, { name: 'o2.csv' }] }), 600).state).toBe('settling');
    expect(t.observe(D, listing({ ...all, orders: [{ name: 'o.csv' }, { name: 'o2.csv' }] }), 700).state).toBe('ready');
  });

  it('lists an incomplete date again only on news of it, a settling one when its quiet period ends', () => {
    const t = new ArrivalTracker(1_000);
    t.touch(D, 0);
    t.observe(D, listing({ orders: [{ name: 'o.csv' }] }), 0);
    expect(t.pending()).toEqual([]);
    expect(t.nextDueInMs(10_000)).toBeUndefined();
    t.touch(D, 20_000);
    t.observe(D, listing(all), 20_000);
    expect(t.pending()).toEqual([D]);
    expect(t.nextDueInMs(20_400)).toBe(600);
  });

  it('takes the lake as it was at start-up as acted on', () => {
    const t = new ArrivalTracker(100);
    t.baseline(D, listing(all), 0);
    expect(t.pending()).toEqual([]);
    expect(t.observe(D, listing(all), 1_000)).toEqual({ state: 'handled' });
  });
});

describe('S3 notifications', () => {
  it('decode keys, keep only ObjectCreated, and unwrap SNS', () => {
    const records = {
      Records: [
        {
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: 'b' }, object: { key: 'lake/raw/orders/2025-10-27/my+file%2B1.csv' } },
        },
        {
          eventSource: 'aws:s3',
          eventName: 'ObjectRemoved:Delete',
          s3: { bucket: { name: 'b' }, object: { key: 'lake/raw/orders/2025-10-27/x.csv' } },
        },
        { eventSource: 'aws:sqs', eventName: 'ObjectCreated:Put' },
      ],
    };
    const expected = {
      kind: 'objects',
      objects: [{ bucket: 'b', key: 'lake/raw/orders/2025-10-27/my file+1.csv', eventName: 'ObjectCreated:Put' }],
    };
    expect(parseS3Notification(JSON.stringify(records))).toEqual(expected);
    expect(parseS3Notification(JSON.stringify({ Type: 'Notification', Message: JSON.stringify(records) }))).toEqual(expected);
  });

  it('recognise the s3:TestEvent and name what they cannot read', () => {
    expect(parseS3Notification(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'b' }))).toEqual({
      kind: 'test',
      bucket: 'b',
    });
    expect(parseS3Notification('not json')).toEqual({ kind: 'unknown', reason: 'the body is not JSON' });
    expect(parseS3Notification('[1]')).toEqual({ kind: 'unknown', reason: 'the body is not a JSON object' });
    expect(parseS3Notification('{"hello":1}')).toEqual({ kind: 'unknown', reason: 'neither S3 event records nor an s3:TestEvent' });
  });

  it('name a date only for a key in one of its partitions', () => {
    expect(partitionOfKey('raw/orders/2025-10-27/orders.csv')).toEqual({ entity: 'orders', runDate: '2025-10-27', name: 'orders.csv' });
    expect(partitionOfKey('raw/orders/2025-10-27/sub/orders.csv')?.runDate).toBe('2025-10-27');
    expect(partitionOfKey('raw/orders/2025-10-27/')).toBeUndefined();
    expect(partitionOfKey('raw/orders/2025-02-30/orders.csv')).toBeUndefined();
    expect(partitionOfKey('raw/returns/2025-10-27/r.csv')).toBeUndefined();
    expect(partitionOfKey('processed/gold/x.parquet')).toBeUndefined();
  });
});

describe("the watcher's lines", () => {
  it('say what was done with the date', () => {
    expect(outcomeLine(D, 30_000, { kind: 'started', workflowId: 'daily-pipeline-2025-10-27', runId: 'r' })).toBe(
      '2025-10-27: all three partitions present, quiet for 30 s; started daily-pipeline-2025-10-27',
    );
    expect(outcomeLine(D, 30_000, { kind: 'signalled', workflowId: 'daily-ecommerce-pipeline-2025-10-27T19:40:00Z', runId: 'r' })).toBe(
      '2025-10-27: all three partitions present, quiet for 30 s; daily-ecommerce-pipeline-2025-10-27T19:40:00Z already running, signalled',
    );
  });
});
