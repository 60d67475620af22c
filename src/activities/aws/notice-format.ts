/**
 * Readable notice body. Stand-in with the same name as src/activities/notify/format.ts's
 * `formatNoticeText`; switch the import in sns.ts once that module exists.
 */
import type { Notice } from '../types';

const fmtMs = (ms?: number) => (ms === undefined ? '' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

export function formatNoticeText(notice: Notice): string {
  const lines = [notice.subject, '', `run date: ${notice.runDate}`, `workflow: ${notice.workflowId} (run ${notice.runId}, namespace ${notice.namespace})`];
  if (notice.text) lines.push('', notice.text);
  if (notice.stages.length > 0) {
    lines.push('', 'stages:');
    for (const s of notice.stages) {
      const metrics = s.metrics && Object.keys(s.metrics).length ? ` [${Object.entries(s.metrics).map(([k, v]) => `${k}=${v}`).join(', ')}]` : '';
      const extra = [fmtMs(s.durationMs), s.attempts > 1 ? `${s.attempts} attempts` : ''].filter(Boolean).join(', ');
      lines.push(`  ${s.stage}: ${s.state}${extra ? ` (${extra})` : ''}${metrics}${s.message ? ` - ${s.message}` : ''}`);
    }
  }
  if (notice.quality?.length) {
    lines.push('', 'quality gate:');
    for (const q of notice.quality) lines.push(`  ${q.passed ? 'pass' : 'FAIL'} ${q.entity}.${q.check} = ${q.value} (threshold ${q.threshold})`);
  }
  return lines.join('\n');
}
