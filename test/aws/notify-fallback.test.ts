/**
 * Without an SNS topic the aws backend's notices go to the local channels: the worker's backend
 * binding (src/activities/index.ts) hands it the local notifier, built on the first such notice; the
 * aws backend itself loads nothing of the local one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createActivities } from '../../src/activities';
import { createAwsActivities } from '../../src/activities/aws';
import type { AwsClients } from '../../src/activities/aws/clients';
import type { Notice } from '../../src/activities/types';
import { loadConfig } from '../../src/config';
import { motoAwsConfig } from '../support/moto';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aws-notify-fallback-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const notice: Notice = {
  key: 'daily-2025-10-27/notify/succeeded',
  kind: 'succeeded',
  runDate: '2025-10-27',
  workflowId: 'daily-2025-10-27',
  runId: 'r-1',
  namespace: 'default',
  subject: 'Pipeline 2025-10-27 succeeded',
  text: 'all stages succeeded',
  stages: [],
};

describe('aws backend notices without an SNS topic', () => {
  it('go to the injected fallback notifier, built once and only when a notice comes', async () => {
    const publishNotification = vi.fn(async () => ({ messageId: 'm-1', channels: ['fallback'] }));
    const fallbackNotifier = vi.fn(() => ({ publishNotification }));
    const acts = createAwsActivities(motoAwsConfig('http://unused'), { webUiUrl: '', clients: {} as AwsClients, fallbackNotifier });
    expect(fallbackNotifier).not.toHaveBeenCalled();
    expect(await acts.publishNotification(notice)).toEqual({ messageId: 'm-1', channels: ['fallback'] });
    await acts.publishNotification(notice);
    expect(fallbackNotifier).toHaveBeenCalledOnce();
    expect(publishNotification).toHaveBeenCalledTimes(2);
  });

  it('reach the local outbox through the backend the worker builds', async () => {
    const outbox = path.join(root, 'outbox.jsonl');
    const config = loadConfig({
      PIPELINE_BACKEND: 'aws',
      AWS_REGION: 'eu-west-1',
      PIPELINE_S3_BUCKET: 'pipeline-fallback-lake',
      PIPELINE_REDSHIFT_WORKGROUP: 'pipeline',
      PIPELINE_LAKE_DIR: path.join(root, 'lake'),
      PIPELINE_WAREHOUSE_PATH: path.join(root, 'warehouse.duckdb'),
      PIPELINE_OUTBOX_PATH: outbox,
    });
    expect(config.aws?.snsTopicArn).toBeUndefined();
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const acts = createActivities(config);
    try {
      const res = await acts.publishNotification(notice);
      expect(res.channels).toEqual(['console', `outbox:${outbox}`]);
      const lines = fs.readFileSync(outbox, 'utf8').trim().split('\n');
      expect(lines.map((l) => (JSON.parse(l) as { key: string }).key)).toEqual([notice.key]);
    } finally {
      log.mockRestore();
      await acts.close();
    }
  });
});
