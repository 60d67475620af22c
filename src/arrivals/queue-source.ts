/**
 * Arrivals from the bucket's ObjectCreated notifications, read from SQS with long polling.
 *
 * A message is deleted only once it is dealt with: at once when it names nothing to act on (the
 * s3:TestEvent, another bucket, a key outside raw/), otherwise when every date it names has been
 * acted on (run started or signalled, or found already succeeded). Until then the watcher keeps it
 * in flight by extending its visibility, so a watcher that stops or dies mid-wait leaves the
 * messages to the next one, which lists the partitions again and decides afresh.
 */
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { AwsConfig } from '../config';
import { partitionOfKey } from './partitions';
import { parseS3Notification } from './s3-events';
import type { ArrivalSource } from './watcher';

/** How long a received message stays hidden from other consumers; extended while its date waits. */
export const VISIBILITY_SECONDS = 120;
/** SQS's longest long poll. */
const MAX_WAIT_SECONDS = 20;

interface Held {
  receiptHandle: string;
  dates: Set<string>;
  visibleAt: number;
}

export class QueueSource implements ArrivalSource {
  readonly kind = 'sqs' as const;
  /** A long poll, but short enough that held messages are extended in time (hold runs between polls). */
  readonly idleWaitMs: number;
  private readonly held = new Map<string, Held>();
  private readonly visibilitySeconds: number;
  private readonly now: () => number;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly config: AwsConfig,
    private readonly say: (line: string) => void,
    options: { visibilitySeconds?: number; now?: () => number } = {},
  ) {
    this.visibilitySeconds = options.visibilitySeconds ?? VISIBILITY_SECONDS;
    this.now = options.now ?? Date.now;
    this.idleWaitMs = Math.min(MAX_WAIT_SECONDS * 1000, (this.visibilitySeconds * 1000) / 4);
  }

  describe(): string {
    return `S3 notifications of s3://${this.config.bucket}/${this.config.prefix}raw/ from the queue ${this.queueUrl}`;
  }

  async next(waitMs: number, signal: AbortSignal): Promise<string[]> {
    const waitSeconds = Math.max(0, Math.min(Math.floor(this.idleWaitMs / 1000), Math.ceil(waitMs / 1000)));
    let messages;
    try {
      const out = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: waitSeconds,
          VisibilityTimeout: this.visibilitySeconds,
        }),
        { abortSignal: signal },
      );
      messages = out.Messages ?? [];
    } catch (err) {
      if (signal.aborted) return [];
      throw err;
    }
    const receivedAt = this.now();
    const dates = new Set<string>();
    const drop: string[] = [];
    for (const m of messages) {
      if (!m.ReceiptHandle) continue;
      const note = parseS3Notification(m.Body);
      const forDates = new Set<string>();
      if (note.kind === 'test') {
        this.say(`s3:TestEvent${note.bucket ? ` from ${note.bucket}` : ''}: the bucket's notifications reach the queue`);
      } else if (note.kind === 'unknown') {
        this.say(`dropped message ${m.MessageId ?? ''}: ${note.reason}`);
      } else {
        for (const o of note.objects) {
          if (o.bucket !== this.config.bucket || !o.key.startsWith(this.config.prefix)) continue;
          const partition = partitionOfKey(o.key.slice(this.config.prefix.length));
          if (partition) forDates.add(partition.runDate);
        }
      }
      if (forDates.size === 0) drop.push(m.ReceiptHandle);
      else {
        this.held.set(m.MessageId ?? m.ReceiptHandle, {
          receiptHandle: m.ReceiptHandle,
          dates: forDates,
          visibleAt: receivedAt + this.visibilitySeconds * 1000,
        });
        for (const d of forDates) dates.add(d);
      }
    }
    await this.delete(drop);
    return [...dates];
  }

  async release(runDate: string): Promise<void> {
    const done: string[] = [];
    for (const [id, h] of this.held) {
      h.dates.delete(runDate);
      if (h.dates.size === 0) {
        done.push(h.receiptHandle);
        this.held.delete(id);
      }
    }
    await this.delete(done);
  }

  async hold(): Promise<void> {
    const at = this.now();
    // Extended at half time: a loop round takes at most a long poll (20 s) plus the listings.
    const expiring = [...this.held.values()].filter((h) => h.visibleAt - at < (this.visibilitySeconds * 1000) / 2);
    for (let i = 0; i < expiring.length; i += 10) {
      const batch = expiring.slice(i, i + 10);
      await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((h, n) => ({ Id: String(n), ReceiptHandle: h.receiptHandle, VisibilityTimeout: this.visibilitySeconds })),
        }),
      );
      for (const h of batch) h.visibleAt = at + this.visibilitySeconds * 1000;
    }
  }

  private async delete(receiptHandles: string[]): Promise<void> {
    for (let i = 0; i < receiptHandles.length; i += 10) {
      const batch = receiptHandles.slice(i, i + 10);
      const out = await this.sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: batch.map((r, n) => ({ Id: String(n), ReceiptHandle: r })) }),
      );
      // A message whose receipt expired comes back later; by then its date's run exists and is only signalled.
      for (const f of out.Failed ?? []) this.say(`could not delete a handled message (${f.Code ?? 'error'}: ${f.Message ?? ''})`);
    }
  }
}
