import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalConfig } from '../../src/config';
import type { Notice } from '../../src/activities/types';
import type { OutboxRecord } from '../../src/activities/notify/local';
import { createLocalNotifier } from '../../src/activities/notify/local';
import { formatNoticeLine, formatNoticeText, runLink } from '../../src/activities/notify/format';

const WEB_UI = 'http://127.0.0.1:8233/';

function notice(overrides: Partial<Notice> = {}): Notice {
  return {
    key: 'daily-2025-10-27/first-run/succeeded',
    kind: 'succeeded',
    runDate: '2025-10-27',
    workflowId: 'daily-2025-10-27',
    runId: 'run-1',
    namespace: 'default',
    subject: '[ecommerce-pipeline] 2025-10-27 succeeded',
    text: 'Daily e-commerce pipeline for 2025-10-27: succeeded.',
    stages: [
      { stage: 'awaitRawData', state: 'succeeded', attempts: 1, durationMs: 120 },
      { stage: 'catalog', state: 'succeeded', attempts: 1, durationMs: 1_500 },
      { stage: 'validate', state: 'succeeded', attempts: 1, durationMs: 800 },
      {
        stage: 'transform',
        state: 'succeeded',
        attempts: 2,
        durationMs: 3_200,
        metrics: {
          'orders.read': 1009,
          'orders.loaded': 1000,
          'orders.rejected': 8,
          'orders.duplicates': 1,
          'customers.read': 205,
          'orders.revenue': 123456.789,
        },
      },
      { stage: 'load', state: 'succeeded', attempts: 1, durationMs: 900 },
      { stage: 'verify', state: 'succeeded', attempts: 1, durationMs: 50 },
      { stage: 'notify', state: 'pending', attempts: 0 },
    ],
    ...overrides,
  };
}

interface Received {
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

let server: Server;
let baseUrl: string;
let received: Received[];
let respond: (res: ServerResponse) => void;

beforeAll(async () => {
  server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(data) as Record<string, unknown> });
      respond(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

let dir: string;
let lines: string[];
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'notify-'));
  lines = [];
  received = [];
  respond = (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  return () => rm(dir, { recursive: true, force: true });
});

/** Short waits between tries of a failing channel: the default waits a few seconds. */
const FAST_RETRY = { attempts: 3, initialDelayMs: 20, maxDelayMs: 50 };

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  return port;
}

function config(webhookUrl?: string): LocalConfig {
  return {
    lakeDir: dir,
    warehousePath: path.join(dir, 'w.duckdb'),
    outboxPath: path.join(dir, 'nested', 'deeper', 'notifications.jsonl'),
    webhookUrl,
    duckdbMemoryLimit: '1GB',
  };
}

async function outbox(cfg: LocalConfig): Promise<OutboxRecord[]> {
  const text = await readFile(cfg.outboxPath, 'utf8');
  return text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as OutboxRecord);
}

describe('local notifier', () => {
  it('prints one readable line and appends one JSON line to the outbox, creating its folders', async () => {
    const cfg = config();
    const notifier = createLocalNotifier(cfg, { webUiUrl: WEB_UI, log: (l) => lines.push(l) });
    const result = await notifier.publishNotification(notice());
    expect(result.channels).toEqual(['console', `outbox:${cfg.outboxPath}`]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('SUCCEEDED 2025-10-27');
    expect(lines[0]).toContain('catalog 1.5 s');
    expect(lines[0]).toContain('orders 1,009 read / 1,000 loaded / 8 rejected / 1 duplicates');
    expect(lines[0]).toContain('http://127.0.0.1:8233/namespaces/default/workflows/daily-2025-10-27/run-1/history');
    const records = await outbox(cfg);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      key: notice().key,
      messageId: result.messageId,
      kind: 'succeeded',
      status: 'SUCCEEDED',
      runDate: '2025-10-27',
    });
    expect(records[0].text).toContain('revenue 123,456.79');
  });

  it('does not write or send a notice whose key is already in the outbox, and returns the earlier id', async () => {
    const cfg = config(`${baseUrl}/hooks/abc`);
    const first = await createLocalNotifier(cfg, { webUiUrl: WEB_UI, log: (l) => lines.push(l) }).publishNotification(notice());
    // A fresh notifier, as after a worker restart: the outbox file is the memory.
    const again = await createLocalNotifier(cfg, { webUiUrl: WEB_UI, log: (l) => lines.push(l) }).publishNotification(
      notice({ runId: 'run-2' }),
    );
    expect(again.messageId).toBe(first.messageId);
    expect(await outbox(cfg)).toHaveLength(1);
    expect(received).toHaveLength(1);
    expect(lines).toHaveLength(1);
    const other = await createLocalNotifier(cfg, { webUiUrl: WEB_UI, log: (l) => lines.push(l) }).publishNotification(
      notice({ key: 'daily-2025-10-27/first-run/failed', kind: 'failed' }),
    );
    expect(other.messageId).not.toBe(first.messageId);
    expect((await outbox(cfg)).map((r) => r.kind)).toEqual(['succeeded', 'failed']);
    expect(received).toHaveLength(2);
  });

  it('serialises concurrent publishes of the same notice to one delivery', async () => {
    const cfg = config(`${baseUrl}/hooks/abc`);
    const notifier = createLocalNotifier(cfg, { webUiUrl: WEB_UI, log: (l) => lines.push(l) });
    const results = await Promise.all([notifier.publishNotification(notice()), notifier.publishNotification(notice())]);
    expect(results[0].messageId).toBe(results[1].messageId);
    expect(received).toHaveLength(1);
    expect(await outbox(cfg)).toHaveLength(1);
  });

  it('POSTs JSON with a Slack-compatible text field to the webhook', async () => {
    const cfg = config(`${baseUrl}/hooks/abc`);
    const result = await createLocalNotifier(cfg, { webUiUrl: WEB_UI, log: (l) => lines.push(l) }).publishNotification(notice());
    expect(result.channels).toContain(`webhook:${new URL(baseUrl).host}`);
    expect(received).toHaveLength(1);
    expect(received[0].headers['content-type']).toBe('application/json');
    expect(received[0].headers['idempotency-key']).toBe(notice().key);
    const text = received[0].body.text as string;
    expect(text).toMatch(/^SUCCEEDED: /);
    expect(text).toContain('transform');
    expect(text).toContain('2 attempts');
    expect(text).toContain(runLink(WEB_UI, notice()));
    expect(received[0].body).toMatchObject({ runDate: '2025-10-27', kind: 'succeeded', messageId: result.messageId });
  });

  it('retries a webhook answering 503 with backoff inside the same publish, and records the notice once', async () => {
    const cfg = config(`${baseUrl}/hooks/abc`);
    const warnings: string[] = [];
    const notifier = createLocalNotifier(cfg, {
      webUiUrl: WEB_UI,
      log: (l) => lines.push(l),
      warn: (m) => warnings.push(m),
      retry: FAST_RETRY,
    });
    let answers = 0;
    respond = (res) => (++answers === 1 ? res.writeHead(503, { 'content-type': 'text/plain' }).end('try later') : res.writeHead(204).end());
    const result = await notifier.publishNotification(notice());
    expect(received).toHaveLength(2);
    expect(result.channels).toEqual(['console', `outbox:${cfg.outboxPath}`, `webhook:${new URL(baseUrl).host}`]);
    expect(result.failures).toBeUndefined();
    expect(warnings).toEqual([]);
    expect(await outbox(cfg)).toHaveLength(1);
    expect(lines).toHaveLength(1);
  });

  it('a webhook that keeps failing does not fail the publish nor stop the console and the outbox; the failure is reported', async () => {
    const cfg = config(`${baseUrl}/hooks/abc`);
    const warnings: { message: string; meta: Record<string, unknown> }[] = [];
    const notifier = createLocalNotifier(cfg, {
      webUiUrl: WEB_UI,
      log: (l) => lines.push(l),
      warn: (message, meta) => warnings.push({ message, meta }),
      retry: FAST_RETRY,
    });
    respond = (res) => res.writeHead(503, { 'content-type': 'text/plain' }).end('try later');
    const result = await notifier.publishNotification(notice());
    const channel = `webhook:${new URL(baseUrl).host}`;
    expect(received).toHaveLength(3); // FAST_RETRY.attempts
    expect(result.channels).toEqual(['console', `outbox:${cfg.outboxPath}`]);
    expect(result.failures).toEqual([{ channel, attempts: 3, error: expect.stringContaining('answered 503') as string }]);
    expect(result.failures![0].error).toContain('try later');
    expect(lines).toHaveLength(1);
    const [record] = await outbox(cfg);
    expect(record).toMatchObject({ key: notice().key, channels: ['console', `outbox:${cfg.outboxPath}`], failures: result.failures });
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toContain(`notice channel ${channel} failed after 3 attempts`);
    expect(warnings[0].meta).toMatchObject({ channel, attempts: 3, noticeKey: notice().key });
    // The outbox is the record: publishing the same notice again repeats nothing and reports the same.
    const again = await notifier.publishNotification(notice());
    expect(again).toEqual(result);
    expect(received).toHaveLength(3);
  });

  it('does not retry a webhook that refuses the notice (4xx)', async () => {
    const cfg = config(`${baseUrl}/hooks/abc`);
    respond = (res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('no such hook');
    const result = await createLocalNotifier(cfg, {
      webUiUrl: WEB_UI,
      log: (l) => lines.push(l),
      warn: () => undefined,
      retry: FAST_RETRY,
    }).publishNotification(notice());
    expect(received).toHaveLength(1);
    expect(result.failures).toMatchObject([{ attempts: 1, error: expect.stringContaining('answered 404') as string }]);
    expect(result.channels).toEqual(['console', `outbox:${cfg.outboxPath}`]);
  });

  it('gives up on a webhook that does not answer in time, and still delivers to the other channels', async () => {
    const cfg = config(`${baseUrl}/slow`);
    respond = () => undefined; // never answers
    const notifier = createLocalNotifier(cfg, {
      webUiUrl: WEB_UI,
      log: (l) => lines.push(l),
      warn: () => undefined,
      webhookTimeoutMs: 300,
      retry: { ...FAST_RETRY, attempts: 2 },
    });
    const result = await notifier.publishNotification(notice());
    expect(result.failures).toMatchObject([{ attempts: 2, error: expect.stringMatching(/did not answer within 300 ms/) as string }]);
    expect(lines).toHaveLength(1);
    expect(await outbox(cfg)).toHaveLength(1);
    server.closeAllConnections();
  });

  it('with the webhook at a closed port, the console and the outbox still get the notice and the publish does not throw', async () => {
    const port = await closedPort();
    const cfg = config(`http://127.0.0.1:${port}/x`);
    const warnings: string[] = [];
    const notifier = createLocalNotifier(cfg, {
      webUiUrl: WEB_UI,
      log: (l) => lines.push(l),
      warn: (m) => warnings.push(m),
      retry: FAST_RETRY,
    });
    const result = await notifier.publishNotification(notice());
    expect(result.channels).toEqual(['console', `outbox:${cfg.outboxPath}`]);
    expect(result.failures).toEqual([
      {
        channel: `webhook:127.0.0.1:${port}`,
        attempts: 3,
        error: expect.stringMatching(new RegExp(`webhook 127.0.0.1:${port} could not be reached`)) as string,
      },
    ]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('SUCCEEDED 2025-10-27');
    expect(await outbox(cfg)).toMatchObject([{ key: notice().key, kind: 'succeeded' }]);
    expect(warnings).toEqual([expect.stringContaining(`webhook:127.0.0.1:${port} failed after 3 attempts`)]);
  });

  it('a webhook URL that does not parse, or is not http(s), fails the webhook channel only, without showing the URL', async () => {
    for (const url of ['http://hookuser:s3cr3tPass@[nowhere', 'htp:/hookuser:s3cr3tPass@nowhere']) {
      const cfg = { ...config(url), outboxPath: path.join(dir, `${url.length}.jsonl`) };
      const result = await createLocalNotifier(cfg, {
        webUiUrl: WEB_UI,
        log: (l) => lines.push(l),
        warn: () => undefined,
        retry: FAST_RETRY,
      }).publishNotification(notice());
      expect(result.channels).toEqual(['console', `outbox:${cfg.outboxPath}`]);
      expect(result.failures).toEqual([
        { channel: 'webhook:invalid-url', attempts: 1, error: 'PIPELINE_WEBHOOK_URL is not a valid http:// or https:// URL' },
      ]);
    }
  });

  it('fails only when every channel fails, naming each, so that the activity is retried', async () => {
    const port = await closedPort();
    // The outbox path is a folder: it can neither be read nor appended to.
    const cfg = { ...config(`http://127.0.0.1:${port}/x`), outboxPath: dir };
    const notifier = createLocalNotifier(cfg, {
      webUiUrl: WEB_UI,
      log: () => {
        throw new Error('stdout is closed');
      },
      warn: () => undefined,
      retry: FAST_RETRY,
    });
    const err = (await notifier.publishNotification(notice()).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/^no notice channel could deliver the notice: /);
    expect(err.message).toContain('console: stdout is closed');
    expect(err.message).toContain(`webhook:127.0.0.1:${port}: webhook 127.0.0.1:${port} could not be reached`);
    expect(err.message).toContain(`outbox:${dir}: `);
  });
});

describe('secrets in the webhook URL', () => {
  const PASSWORD = 's3cr3tPass';
  const TOKEN = 't0ken123';
  const planted = (base: string) => `${base.replace('http://', `http://hookuser:${PASSWORD}@`)}/hook?token=${TOKEN}`;

  function expectNoSecret(what: string, text: string) {
    expect(text, what).not.toContain(PASSWORD);
    expect(text, what).not.toContain(TOKEN);
  }

  it('never appear in the console line, the outbox, the warnings, the result or the error of a failing webhook', async () => {
    const port = await closedPort();
    const url = planted(`http://127.0.0.1:${port}`);
    const cfg = config(url);
    const warnings: string[] = [];
    const notifier = createLocalNotifier(cfg, {
      webUiUrl: WEB_UI,
      log: (l) => lines.push(l),
      warn: (m, meta) => warnings.push(`${m} ${JSON.stringify(meta)}`),
      retry: FAST_RETRY,
    });
    // A stage message that quotes the URL (as an error of another activity might) is redacted too.
    const result = await notifier.publishNotification(
      notice({ stages: [{ stage: 'load', state: 'failed', attempts: 1, message: `could not call ${url}` }] }),
    );
    expect(result.failures).toHaveLength(1);
    expect(result.failures![0].channel).toBe(`webhook:127.0.0.1:${port}`);
    expectNoSecret('result', JSON.stringify(result));
    expectNoSecret('console', lines.join('\n'));
    expectNoSecret('warnings', warnings.join('\n'));
    expect(warnings.length).toBeGreaterThan(0);
    const written = await readFile(cfg.outboxPath, 'utf8');
    expectNoSecret('outbox', written);
    expect(written).toContain('could not call ***'); // the whole webhook URL is a secret (a Slack hook's path is)

    // Every channel failing: the error is redacted too.
    const broken = createLocalNotifier(
      { ...cfg, outboxPath: dir },
      {
        webUiUrl: WEB_UI,
        log: () => {
          throw new Error(`cannot print to ${url}`);
        },
        warn: (m, meta) => warnings.push(`${m} ${JSON.stringify(meta)}`),
        retry: FAST_RETRY,
      },
    );
    const err = (await broken.publishNotification(notice({ key: 'other' })).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expectNoSecret('error', `${err.message}\n${err.stack ?? ''}`);
    expectNoSecret('warnings', warnings.join('\n'));
  });

  it('are sent as basic authentication, and a webhook echoing them back in an error does not leak them', async () => {
    const url = planted(baseUrl);
    const cfg = config(url);
    const warnings: string[] = [];
    const notifier = createLocalNotifier(cfg, {
      webUiUrl: WEB_UI,
      log: (l) => lines.push(l),
      warn: (m) => warnings.push(m),
      retry: FAST_RETRY,
    });
    const result = await notifier.publishNotification(notice());
    expect(result.channels).toContain(`webhook:${new URL(baseUrl).host}`);
    expect(received).toHaveLength(1);
    expect(received[0].headers.authorization).toBe(`Basic ${Buffer.from(`hookuser:${PASSWORD}`).toString('base64')}`);
    expectNoSecret('result', JSON.stringify(result));
    expectNoSecret('webhook body', JSON.stringify(received[0].body));

    respond = (res) => res.writeHead(401, { 'content-type': 'text/plain' }).end(`bad credentials ${PASSWORD} for ${url}`);
    const refused = await notifier.publishNotification(notice({ key: 'refused' }));
    expect(refused.failures).toMatchObject([{ error: expect.stringContaining('answered 401') as string }]);
    expectNoSecret('result', JSON.stringify(refused));
    expectNoSecret('warnings', warnings.join('\n'));
    expectNoSecret('outbox', await readFile(cfg.outboxPath, 'utf8'));
    expectNoSecret('console', lines.join('\n'));
  });
});

describe('notice text', () => {
  it('shows what each stage cost where the backend reports it (DPU-seconds, bytes scanned, rows affected)', () => {
    const text = formatNoticeText(
      notice({
        stages: [
          { stage: 'validate', state: 'succeeded', attempts: 1, durationMs: 4_000, metrics: { bytesScanned: 3_456_789 } },
          {
            stage: 'transform',
            state: 'succeeded',
            attempts: 1,
            durationMs: 90_000,
            metrics: { 'orders.loaded': 993, dpuSeconds: 1234.5 },
          },
          { stage: 'load', state: 'succeeded', attempts: 1, durationMs: 8_000, metrics: { rowsAffected: 1200 } },
        ],
      }),
      'http://ui:8233',
    );
    expect(text).toMatch(/validate .* 3\.5 MB scanned/);
    expect(text).toMatch(/transform .* orders 993 loaded; 1,234\.5 DPU-seconds/);
    expect(text).toMatch(/load .* 1,200 rows affected/);
  });

  it('lists failed quality checks and stage messages, and encodes the run link', () => {
    const text = formatNoticeText(
      notice({
        kind: 'quality_failed',
        workflowId: 'daily 2025/10/27',
        stages: [{ stage: 'validate', state: 'failed', attempts: 1, durationMs: 65_000, message: 'quality gate failed' }],
        quality: [
          { entity: 'orders', check: 'validity', value: 0.9312, threshold: 0.97, passed: false },
          { entity: 'orders', check: 'row_count', value: 1000, threshold: 1, passed: true },
        ],
      }),
      'http://ui:8233',
    );
    expect(text).toMatch(/^QUALITY FAILED: /);
    expect(text).toContain('validate      failed     1 min 5 s - quality gate failed');
    expect(text).toContain('quality gate: 1/2 checks passed');
    expect(text).toContain('FAIL orders.validity = 0.9312 (needs >= 0.97)');
    expect(text).toContain('http://ui:8233/namespaces/default/workflows/daily%202025%2F10%2F27/run-1/history');
  });

  it('names what was not read, and leaves out the notify stage that is sending the notice', () => {
    const n = notice({
      stages: [
        { stage: 'load', state: 'succeeded', attempts: 1, durationMs: 2_000 },
        { stage: 'notify', state: 'running', attempts: 1 },
      ],
      unread: [{ key: 'raw/orders/2025-10-27/late.json', reason: 'not a raw file kind (.csv, .csv.gz, .xlsx)' }],
    });
    const text = formatNoticeText(n, 'http://ui:8233');
    expect(text).toContain('not read (1): nothing of these is in the warehouse');
    expect(text.trim().split('\n').at(-1)).toBe(`one-page HTML report: pipeline report ${n.runDate}`);
    expect(text).toContain('  raw/orders/2025-10-27/late.json: not a raw file kind (.csv, .csv.gz, .xlsx)');
    expect(text).not.toMatch(/notify\s+running/);
    expect(formatNoticeLine(n, 'http://ui:8233')).toContain('1 not read: raw/orders/2025-10-27/late.json');
    expect(formatNoticeLine(n, 'http://ui:8233')).not.toContain('notify running');
  });
});
