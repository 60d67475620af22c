/**
 * The local backend's notifier: a console line, one JSON line per notice in the outbox file, and an
 * optional webhook (Slack-compatible `text`). The outbox doubles as the record of what was sent: a
 * notice whose key is already there is not written or sent again, so reruns and retries never repeat.
 *
 * Each channel is tried on its own, and a failing one is retried a few times with backoff (a few
 * seconds in all) inside the same publish. A channel that still fails is reported (in the result's
 * `failures`, in the outbox record and in a warning log line) but neither stops the other channels
 * nor fails the publish: a run whose data is loaded must not fail because a chat service is down.
 * Only when every channel fails does the publish throw, so that Temporal retries it.
 *
 * Nothing a channel prints, stores, sends or throws carries a credential: everything goes through
 * shared/redact.ts, with the webhook URL's secret parts (user:password, token-like query values, the
 * URL itself) added to whatever the configuration registered.
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { asyncLocalStorage } from '@temporalio/activity';
import type { LocalConfig } from '../../config';
import { redact, redactError, urlSecrets } from '../../shared/redact';
import type { ChannelFailure, Notice, PublishResult } from '../types';
import { formatNoticeLine, formatNoticeText, noticeStatus, runLink } from './format';

export interface ChannelRetryOptions {
  /** Tries per channel and publish, the first included (default 3). */
  attempts: number;
  /** Wait before the second try (default 1 s); each later wait is `backoffCoefficient` times longer. */
  initialDelayMs: number;
  backoffCoefficient: number;
  /** Longest single wait (default 4 s). */
  maxDelayMs: number;
}

/** Three tries, waiting 1 s then 2 s: a few seconds in all, well inside the notify activity's timeout. */
export const DEFAULT_CHANNEL_RETRY: ChannelRetryOptions = { attempts: 3, initialDelayMs: 1_000, backoffCoefficient: 2, maxDelayMs: 4_000 };

export type WarnFn = (message: string, meta: Record<string, unknown>) => void;

export interface NotifierOptions {
  /** Base URL of the Temporal Web UI, for the run link in each notice. */
  webUiUrl: string;
  /** Where the console line goes (default: stdout). */
  log?: (line: string) => void;
  /** How long the webhook may take to answer, per try (default 10 s). */
  webhookTimeoutMs?: number;
  /** Retries of a failing channel within one publish (tests use short waits). */
  retry?: Partial<ChannelRetryOptions>;
  /** Where a failed channel is reported (default: the activity's logger; stderr outside an activity). */
  warn?: WarnFn;
}

export interface OutboxRecord {
  key: string;
  messageId: string;
  publishedAt: string;
  channels: string[];
  /** Channels that could not deliver the notice (absent when all did). */
  failures?: ChannelFailure[];
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
  unread?: Notice['unread'];
}

export interface LocalNotifier {
  publishNotification(notice: Notice): Promise<PublishResult>;
}

/** Same key, same id: a retried publish reports what the first one did. */
export function messageIdFor(key: string): string {
  return `local-${createHash('sha256').update(key).digest('hex').slice(0, 20)}`;
}

/** A failure that trying again cannot fix (a 4xx answer other than 408, 425 and 429). */
class PermanentChannelError extends Error {}

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

interface WebhookTarget {
  /** What is requested: the URL without user info (fetch refuses URLs with credentials). */
  url: string;
  host: string;
  /** `Basic ...` from the URL's user:password, if it has them. */
  authorization?: string;
}

function webhookTarget(raw: string): WebhookTarget {
  const url = new URL(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http or https');
  const target: WebhookTarget = { url: '', host: url.host };
  if (url.username || url.password) {
    const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    target.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  target.url = url.href;
  return target;
}

async function postWebhook(target: WebhookTarget, body: string, key: string, timeoutMs: number): Promise<void> {
  const { host } = target;
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': key,
        ...(target.authorization ? { authorization: target.authorization } : {}),
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error;
    if (e.name === 'TimeoutError') throw new Error(`webhook ${host} did not answer within ${timeoutMs} ms`);
    throw new Error(`webhook ${host} could not be reached: ${(e.cause as Error | undefined)?.message ?? e.message}`);
  }
  if (!response.ok) {
    const detail = (await response.text().catch(() => '')).slice(0, 200);
    const message = `webhook ${host} answered ${response.status} ${response.statusText}${detail ? `: ${detail}` : ''}`;
    const retryable = response.status >= 500 || [408, 425, 429].includes(response.status);
    throw retryable ? new Error(message) : new PermanentChannelError(message);
  }
}

function defaultWarn(): WarnFn {
  return (message, meta) => {
    const ctx = asyncLocalStorage.getStore();
    if (ctx) ctx.log.warn(message, meta);
    else console.warn(`${message} ${JSON.stringify(meta)}`);
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createLocalNotifier(config: LocalConfig, options: NotifierOptions): LocalNotifier {
  const log = options.log ?? ((line: string) => console.log(line));
  const warn = options.warn ?? defaultWarn();
  const timeoutMs = options.webhookTimeoutMs ?? 10_000;
  const retry: ChannelRetryOptions = { ...DEFAULT_CHANNEL_RETRY, ...options.retry };
  // The webhook URL's secrets, whether or not the configuration registered them.
  const secrets = urlSecrets(config.webhookUrl, true);
  const clean = (text: string) => redact(text, secrets);
  // A URL that does not parse (configuration validates it; a hand-made LocalConfig may not) fails the webhook channel only.
  let webhook: WebhookTarget | Error | undefined;
  try {
    webhook = config.webhookUrl ? webhookTarget(config.webhookUrl) : undefined;
  } catch {
    webhook = new PermanentChannelError('PIPELINE_WEBHOOK_URL is not a valid http:// or https:// URL');
  }
  const outboxChannel = `outbox:${config.outboxPath}`;
  // Channels in a stable order, as before: console, outbox, webhook.
  const rank = (c: string) => (c === 'console' ? 0 : c === outboxChannel ? 1 : 2);
  const inOrder = (channels: string[]) => [...channels].sort((a, b) => rank(a) - rank(b));
  // Notices of one worker are published one at a time, so two copies of a notice cannot both miss the outbox.
  let queue: Promise<unknown> = Promise.resolve();

  /** Tries one channel up to `retry.attempts` times; a failure is returned, never thrown. */
  async function attempt(channel: string, send: () => Promise<void> | void, key: string): Promise<ChannelFailure | undefined> {
    let delay = retry.initialDelayMs;
    for (let n = 1; ; n++) {
      try {
        await send();
        return undefined;
      } catch (err) {
        const error = redactError(err, secrets);
        if (n >= retry.attempts || err instanceof PermanentChannelError) {
          warn(`notice channel ${channel} failed after ${n} attempt${n === 1 ? '' : 's'}; the other channels are unaffected: ${error}`, {
            channel,
            attempts: n,
            error,
            noticeKey: key,
          });
          return { channel, error, attempts: n };
        }
        await sleep(delay);
        delay = Math.min(delay * retry.backoffCoefficient, retry.maxDelayMs);
      }
    }
  }

  async function publish(original: Notice): Promise<PublishResult> {
    let earlier: OutboxRecord | undefined;
    try {
      earlier = await findInOutbox(config.outboxPath, original.key);
    } catch (err) {
      // Cannot tell whether it was sent before: sending it (again) beats not sending it at all.
      const error = redactError(err, secrets);
      warn(`could not read the outbox to look for an earlier copy of the notice: ${error}`, {
        channel: outboxChannel,
        error,
        noticeKey: original.key,
      });
    }
    if (earlier)
      return {
        messageId: earlier.messageId,
        channels: earlier.channels,
        ...(earlier.failures?.length ? { failures: earlier.failures } : {}),
      };

    // Whatever the notice carries (stage messages are other activities' errors) is redacted once, here.
    const notice: Notice = {
      ...original,
      subject: clean(original.subject),
      text: clean(original.text),
      stages: original.stages.map((s) => (s.message === undefined ? s : { ...s, message: clean(s.message) })),
    };
    const messageId = messageIdFor(notice.key);
    const text = clean(formatNoticeText(notice, options.webUiUrl));
    const link = clean(runLink(options.webUiUrl, notice));
    const delivered: string[] = [];
    const failures: ChannelFailure[] = [];
    const tryChannel = async (channel: string, send: () => Promise<void> | void) => {
      const failure = await attempt(channel, send, notice.key);
      if (failure) failures.push(failure);
      else delivered.push(channel);
    };

    await tryChannel('console', () => log(clean(formatNoticeLine(notice, options.webUiUrl))));
    if (webhook) {
      const body = JSON.stringify({
        text,
        subject: notice.subject,
        kind: notice.kind,
        runDate: notice.runDate,
        workflowId: notice.workflowId,
        runId: notice.runId,
        link,
        key: notice.key,
        messageId,
      });
      const target = webhook;
      await tryChannel(target instanceof Error ? 'webhook:invalid-url' : `webhook:${target.host}`, () => {
        if (target instanceof Error) throw target;
        return postWebhook(target, body, notice.key, timeoutMs);
      });
    }
    // The outbox goes last, so that its record says how every other channel fared.
    await tryChannel(outboxChannel, async () => {
      const record: OutboxRecord = {
        key: notice.key,
        messageId,
        publishedAt: new Date().toISOString(),
        channels: inOrder([...delivered, outboxChannel]),
        ...(failures.length ? { failures } : {}),
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
        ...(notice.unread?.length ? { unread: notice.unread } : {}),
      };
      await mkdir(path.dirname(config.outboxPath), { recursive: true });
      await appendFile(config.outboxPath, `${JSON.stringify(record)}\n`);
    });

    if (delivered.length === 0) {
      // Nothing went out: fail, and let the activity's retry policy try them all again.
      throw new Error(`no notice channel could deliver the notice: ${failures.map((f) => `${f.channel}: ${f.error}`).join('; ')}`);
    }
    return { messageId, channels: inOrder(delivered), ...(failures.length ? { failures } : {}) };
  }

  return {
    publishNotification(notice: Notice): Promise<PublishResult> {
      const result = queue.then(() => publish(notice));
      queue = result.catch(() => undefined);
      return result;
    },
  };
}
