/**
 * The local backend's notifier: a console line, one JSON line per notice in the outbox file, and an
 * optional webhook (Slack-compatible `text`). The outbox doubles as the record of what was sent: a
 * notice whose key is already there is not written or sent again, so reruns and retries never repeat.
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LocalConfig } from '../../config';
import type { Notice, PublishResult } from '../types';
import { formatNoticeLine, formatNoticeText, noticeStatus, runLink } from './format';

export interface NotifierOptions {
  /** Base URL of the Temporal Web UI, for the run link in each notice. */
  webUiUrl: string;
  /** Where the console line goes (default: stdout). */
  log?: (line: string) => void;
  /** How long the webhook may take to answer (default 10 s). */
  webhookTimeoutMs?: number;
}

export interface OutboxRecord {
  key: string;
  messageId: string;
  publishedAt: string;
  channels: string[];
  kind: Notice['kind'];
  status: string;
  runDate: string;
  workflowId: string;
  runId: string;
  namespace: string;
  subject: string;
  text: string;
  link: string;
  stages: Notice['stages'];
  quality?: Notice['quality'];
}

export interface LocalNotifier {
  publishNotification(notice: Notice): Promise<PublishResult>;
}

/** Same key, same id: a retried publish reports what the first one did. */
export function messageIdFor(key: string): string {
  return `local-${createHash('sha256').update(key).digest('hex').slice(0, 20)}`;
}

async function findInOutbox(outboxPath: string, key: string): Promise<OutboxRecord | undefined> {
  let content: string;
  try {
    content = await readFile(outboxPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  for (const line of content.split('\n')) {
    // A cheap test first: most lines are other notices.
    if (!line.includes(JSON.stringify(key))) continue;
    try {
      const record = JSON.parse(line) as OutboxRecord;
      if (record.key === key) return record;
    } catch {
      // A torn last line from a crash is not a record; the notice will be written again.
    }
  }
  return undefined;
}

async function postWebhook(url: string, body: unknown, key: string, timeoutMs: number): Promise<void> {
  const host = new URL(url).host;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error;
    if (e.name === 'TimeoutError') throw new Error(`webhook ${host} did not answer within ${timeoutMs} ms`);
    throw new Error(`webhook ${host} could not be reached: ${(e.cause as Error | undefined)?.message ?? e.message}`);
  }
  if (!response.ok) {
    const detail = (await response.text().catch(() => '')).slice(0, 200);
    // A plain Error: Temporal retries it, which is right for a chat service that is briefly down.
    throw new Error(`webhook ${host} answered ${response.status} ${response.statusText}${detail ? `: ${detail}` : ''}`);
  }
}

export function createLocalNotifier(config: LocalConfig, options: NotifierOptions): LocalNotifier {
  const log = options.log ?? ((line: string) => console.log(line));
  const timeoutMs = options.webhookTimeoutMs ?? 10_000;
  // Notices of one worker are published one at a time, so two copies of a notice cannot both miss the outbox.
  let queue: Promise<unknown> = Promise.resolve();

  async function publish(notice: Notice): Promise<PublishResult> {
    const earlier = await findInOutbox(config.outboxPath, notice.key);
    if (earlier) return { messageId: earlier.messageId, channels: earlier.channels };

    const messageId = messageIdFor(notice.key);
    const text = formatNoticeText(notice, options.webUiUrl);
    const link = runLink(options.webUiUrl, notice);
    const channels = ['console', `outbox:${config.outboxPath}`];
    // The webhook goes first: if it fails, nothing is recorded and the retry sends it again.
    if (config.webhookUrl) {
      await postWebhook(
        config.webhookUrl,
        { text, subject: notice.subject, kind: notice.kind, runDate: notice.runDate, workflowId: notice.workflowId, runId: notice.runId, link, key: notice.key, messageId },
        notice.key,
        timeoutMs,
      );
      channels.push(`webhook:${new URL(config.webhookUrl).host}`);
    }
    const record: OutboxRecord = {
      key: notice.key,
      messageId,
      publishedAt: new Date().toISOString(),
      channels,
      kind: notice.kind,
      status: noticeStatus(notice),
      runDate: notice.runDate,
      workflowId: notice.workflowId,
      runId: notice.runId,
      namespace: notice.namespace,
      subject: notice.subject,
      text,
      link,
      stages: notice.stages,
      quality: notice.quality,
    };
    await mkdir(path.dirname(config.outboxPath), { recursive: true });
    await appendFile(config.outboxPath, `${JSON.stringify(record)}\n`);
    log(formatNoticeLine(notice, options.webUiUrl));
    return { messageId, channels };
  }

  return {
    publishNotification(notice: Notice): Promise<PublishResult> {
      const result = queue.then(() => publish(notice));
      queue = result.catch(() => undefined);
      return result;
    },
  };
}
