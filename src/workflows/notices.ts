/** Builds the notices the run publishes; the backend's notifier formats and delivers them. */
import { workflowInfo } from '@temporalio/workflow';
import type { Notice, NoticeKind, StageSummary } from '../activities/types';
import type { RunBook } from './run-book';

const SUBJECTS: Record<NoticeKind, string> = {
  succeeded: 'succeeded',
  failed: 'FAILED',
  stage_failed: 'stage failed, waiting for an operator',
  sensor_late: 'raw data is late',
  cancelled: 'cancelled',
  quality_failed: 'quality gate failed',
};

/** A short, stable fingerprint: the same failure message gives the same notice key. */
function fingerprint(text: string): string {
  let h = 5381;
  for (let i = 0; i < text.length; i++) h = ((h << 5) + h + text.charCodeAt(i)) | 0;
  return (h >>> 0).toString(36);
}

/**
 * The part of a failure message that says what went wrong. Tokens with digits (job run ids, row
 * numbers, times) differ from one attempt to the next of the same failure, so they are left out.
 */
export function failureKeyText(message: string): string {
  return message.replace(/[\w:./-]*\d[\w:./-]*/g, '#');
}

export function stageSummaries(book: RunBook): StageSummary[] {
  return book.status.stages.map((s) => ({
    stage: s.stage,
    state: s.state,
    attempts: s.attempts,
    durationMs: book.durationMs(s),
    message: s.message,
    metrics: Object.keys(s.metrics).length > 0 ? s.metrics : undefined,
  }));
}

/** `keyText` decides, with the kind and key parts, whether two notices are the same one (default: the detail). */
export function buildNotice(book: RunBook, kind: NoticeKind, detail: string, keyParts: string[], keyText = detail): Notice {
  const info = workflowInfo();
  const runDate = book.status.runDate;
  const lines = [`Daily e-commerce pipeline for ${runDate}: ${SUBJECTS[kind]}.`];
  if (detail) lines.push(detail);
  return {
    key: [info.workflowId, info.firstExecutionRunId, kind, ...keyParts, fingerprint(keyText)].join('/'),
    kind,
    runDate,
    workflowId: info.workflowId,
    runId: info.runId,
    namespace: info.namespace,
    subject: `[ecommerce-pipeline] ${runDate} ${SUBJECTS[kind]}`.slice(0, 99),
    text: lines.join('\n'),
    stages: stageSummaries(book),
    quality: book.status.quality,
    ...(book.status.unread?.length ? { unread: book.status.unread } : {}),
  };
}
