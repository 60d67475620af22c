/**
 * The arrivals queue: the SQS queue the bucket's `raw/` notifications go to. Its client is built
 * like the worker's AWS clients (same region, endpoint override and short SDK retries); the queue is
 * configured by name or by URL (PIPELINE_ARRIVALS_QUEUE).
 */
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { AwsConfig } from '../config';
import { arrivalsQueueOf } from '../config/aws';

export function createSqsClient(config: AwsConfig): SQSClient {
  const queue = arrivalsQueueOf(config);
  // A queue given by URL is where its URL says; said so, the SDK does not warn that the two differ.
  const endpoint = config.endpointUrl ?? (isQueueUrl(queue) ? new URL(queue).origin : undefined);
  // And signed for the region its host names (sqs.<region>.amazonaws.com), which may not be AWS_REGION.
  const region = (!config.endpointUrl && /^https?:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(queue)?.[1]) || config.region;
  return new SQSClient({ region, maxAttempts: 3, ...(endpoint ? { endpoint } : {}) });
}

export function isQueueUrl(queue: string): boolean {
  return /^https?:\/\//.test(queue);
}

/** The queue's name: the setting itself, or the last part of its URL. */
export function arrivalsQueueName(config: AwsConfig): string {
  const queue = arrivalsQueueOf(config);
  return isQueueUrl(queue) ? queue.replace(/\/+$/, '').split('/').pop()! : queue;
}

/** SQS's names for a queue that does not exist (JSON protocol, and the older query protocol's code). */
export const QUEUE_MISSING_ERRORS: ReadonlySet<string> = new Set(['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue']);

export function isQueueMissing(err: unknown): boolean {
  const e = (err ?? {}) as { name?: string; Code?: string };
  return QUEUE_MISSING_ERRORS.has(e.name ?? '') || QUEUE_MISSING_ERRORS.has(e.Code ?? '');
}

/** The configured queue's URL: the setting when it is one, else SQS's answer for the name. */
export async function arrivalsQueueUrl(sqs: SQSClient, config: AwsConfig): Promise<string> {
  const queue = arrivalsQueueOf(config);
  if (isQueueUrl(queue)) return queue;
  const out = await sqs.send(new GetQueueUrlCommand({ QueueName: queue }));
  if (!out.QueueUrl) throw new Error(`SQS returned no URL for queue ${queue}`);
  return out.QueueUrl;
}
