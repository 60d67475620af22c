/**
 * How a notice reads, for every channel: console, outbox, webhook (local) and SNS (aws). Plain text,
 * readable in a terminal, an e-mail or a chat message, and redacted (shared/redact.ts): a stage
 * message quoting a credential never reaches a channel.
 */
import { ENTITIES } from '../../shared/contract';
import { redact } from '../../shared/redact';
import type { Notice, StageSummary } from '../types';

export interface RunIdentity {
  namespace: string;
  workflowId: string;
  runId: string;
}

/** The run's event history in the Temporal Web UI. */
export function runLink(webUiUrl: string, run: RunIdentity): string {
  const base = webUiUrl.replace(/\/+$/, '');
  return `${base}/namespaces/${encodeURIComponent(run.namespace)}/workflows/${encodeURIComponent(run.workflowId)}/${encodeURIComponent(run.runId)}/history`;
}

const STATUS: Record<Notice['kind'], string> = {
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  stage_failed: 'STAGE FAILED',
  sensor_late: 'LATE DATA',
  cancelled: 'CANCELLED',
  quality_failed: 'QUALITY FAILED',
};

export function noticeStatus(notice: Notice): string {
  return STATUS[notice.kind] ?? notice.kind.toUpperCase();
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

const count = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 2 });
const money = (v: number) => v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** "orders 1,000 read / 993 loaded / 7 rejected / 2 duplicates; revenue 12,345.67" from stage metrics. */
export function keyCounts(metrics: Record<string, number> | undefined): string {
  if (!metrics) return '';
  const parts: string[] = [];
  for (const entity of ENTITIES) {
    const figures = (['read', 'loaded', 'rejected', 'duplicates'] as const)
      .filter((m) => metrics[`${entity}.${m}`] !== undefined)
      .map((m) => `${count(metrics[`${entity}.${m}`])} ${m}`);
    if (figures.length) parts.push(`${entity} ${figures.join(' / ')}`);
  }
  if (metrics['orders.revenue'] !== undefined) parts.push(`revenue ${money(metrics['orders.revenue'])}`);
  return parts.join('; ');
}

function bytes(v: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** What the backend bills the stage by: "12.5 DPU-seconds; 3.4 MB scanned; 1,200 rows affected". */
export function costFigures(metrics: Record<string, number> | undefined): string {
  if (!metrics) return '';
  const parts: string[] = [];
  if (metrics.dpuSeconds !== undefined) parts.push(`${count(metrics.dpuSeconds)} DPU-seconds`);
  if (metrics.bytesScanned !== undefined) parts.push(`${bytes(metrics.bytesScanned)} scanned`);
  if (metrics.rowsAffected !== undefined) parts.push(`${count(metrics.rowsAffected)} rows affected`);
  return parts.join('; ');
}

function stageLine(s: StageSummary): string {
  const attempts = s.attempts > 1 ? `, ${s.attempts} attempts` : '';
  const counts = [keyCounts(s.metrics), costFigures(s.metrics)].filter(Boolean).join('; ');
  const message = s.message && s.state !== 'succeeded' ? ` - ${s.message}` : '';
  return `  ${s.stage.padEnd(13)} ${s.state.padEnd(10)} ${formatDuration(s.durationMs).padStart(9)}${attempts}${counts ? `  ${counts}` : ''}${message}`;
}

/** The full readable body: what happened, each stage with its duration and counts, the quality gate, the link. */
export function formatNoticeText(notice: Notice, webUiUrl: string): string {
  const lines = [`${noticeStatus(notice)}: ${notice.subject}`, `run date: ${notice.runDate}`];
  if (notice.text) lines.push('', notice.text);
  // The notify stage is the notice being sent: "running" would be all it could say of itself.
  const ran = notice.stages.filter((s) => s.state !== 'pending' && !(s.stage === 'notify' && s.state === 'running'));
  if (ran.length) {
    const total = ran.reduce((sum, s) => sum + (s.durationMs ?? 0), 0);
    lines.push('', `stages (${formatDuration(total)} in total):`, ...ran.map(stageLine));
  }
  const failedChecks = notice.quality?.filter((q) => !q.passed) ?? [];
  if (notice.quality?.length) {
    lines.push('', `quality gate: ${notice.quality.length - failedChecks.length}/${notice.quality.length} checks passed`);
    for (const q of failedChecks)
      lines.push(`  FAIL ${q.entity}.${q.check} = ${Number.isInteger(q.value) ? q.value : q.value.toFixed(4)} (needs >= ${q.threshold})`);
  }
  if (notice.unread?.length) {
    lines.push('', `not read (${notice.unread.length}): nothing of these is in the warehouse`);
    for (const u of notice.unread) lines.push(`  ${u.key}: ${u.reason}`);
  }
  lines.push('', `workflow ${notice.workflowId} (run ${notice.runId}, namespace ${notice.namespace})`, runLink(webUiUrl, notice));
  lines.push(`one-page HTML report: pipeline report ${notice.runDate}`);
  return redact(lines.join('\n'));
}

/** One console line: status, date, per-stage durations, the headline counts, the link. */
export function formatNoticeLine(notice: Notice, webUiUrl: string): string {
  const stages = notice.stages
    .filter((s) => s.state !== 'pending' && !(s.stage === 'notify' && s.state === 'running'))
    .map((s) => `${s.stage} ${s.state === 'succeeded' ? formatDuration(s.durationMs) : s.state}`)
    .join(', ');
  const transform = notice.stages.find((s) => s.stage === 'transform');
  const counts = keyCounts(transform?.metrics);
  const unread = notice.unread?.length ? `${notice.unread.length} not read: ${notice.unread.map((u) => u.key).join(', ')}` : '';
  return redact(
    [`[notify] ${noticeStatus(notice)} ${notice.runDate}`, stages, counts, unread, runLink(webUiUrl, notice)].filter(Boolean).join(' | '),
  );
}
