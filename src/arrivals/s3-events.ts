/**
 * The body of an SQS message from the bucket's notifications: S3 event records, the s3:TestEvent S3
 * sends when a notification is configured, or either wrapped by SNS (a topic fanned out to the queue).
 * Anything else is named, so the watcher can say why it dropped the message.
 */

export interface CreatedObject {
  bucket: string;
  /** The object key, decoded (S3 sends it URL-encoded, a space as `+`). */
  key: string;
  eventName: string;
}

export type S3Notification =
  { kind: 'test'; bucket?: string } | { kind: 'objects'; objects: CreatedObject[] } | { kind: 'unknown'; reason: string };

function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseS3Notification(body: string | undefined): S3Notification {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? '');
  } catch {
    return { kind: 'unknown', reason: 'the body is not JSON' };
  }
  if (isObject(parsed) && parsed.Type === 'Notification' && typeof parsed.Message === 'string') return parseS3Notification(parsed.Message);
  if (!isObject(parsed)) return { kind: 'unknown', reason: 'the body is not a JSON object' };
  if (parsed.Event === 's3:TestEvent') return { kind: 'test', bucket: typeof parsed.Bucket === 'string' ? parsed.Bucket : undefined };
  if (!Array.isArray(parsed.Records)) return { kind: 'unknown', reason: 'neither S3 event records nor an s3:TestEvent' };
  const objects: CreatedObject[] = [];
  for (const r of parsed.Records as unknown[]) {
    if (!isObject(r) || r.eventSource !== 'aws:s3' || typeof r.eventName !== 'string') continue;
    // Deletions, restores and tagging say nothing about data arriving.
    if (!r.eventName.startsWith('ObjectCreated:')) continue;
    const s3 = isObject(r.s3) ? r.s3 : {};
    const bucket = isObject(s3.bucket) && typeof s3.bucket.name === 'string' ? s3.bucket.name : '';
    const key = isObject(s3.object) && typeof s3.object.key === 'string' ? s3.object.key : '';
    if (bucket && key) objects.push({ bucket, key: decodeKey(key), eventName: r.eventName });
  }
  return { kind: 'objects', objects };
}
