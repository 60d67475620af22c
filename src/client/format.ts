/** Terminal rendering of a run's status. */
import Table from 'cli-table3';
import pc from 'picocolors';
import type { PipelineStatus, StageStatus } from '../workflows/definitions';

/** Colours only on a terminal: piped output stays plain text. */
export function plainUnlessTty(): { head?: string[]; border?: string[] } {
  return process.stdout.isTTY ? {} : { head: [], border: [] };
}

const STATE_COLOR: Record<string, (s: string) => string> = {
  succeeded: pc.green,
  failed: pc.red,
  running: pc.cyan,
  skipped: pc.yellow,
  pending: pc.dim,
  awaiting_operator: pc.magenta,
  cancelled: pc.yellow,
};

export function colorState(state: string): string {
  return (STATE_COLOR[state] ?? ((s: string) => s))(state);
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function stageDuration(s: StageStatus): number | undefined {
  if (!s.startedAt) return undefined;
  const end = s.endedAt ? Date.parse(s.endedAt) : Date.now();
  return end - Date.parse(s.startedAt);
}

const KEY_METRICS = /^(\w+\.(read|loaded|rejected|duplicates|rows|files|warehouse_rows)|orders\.revenue|polls|progress|dpuSeconds|bytesScanned|rowsAffected|failedChecks|checks|autoRestarts)$/;

function details(s: StageStatus): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(s.externalIds)) parts.push(`${k}=${v}`);
  const metrics = Object.entries(s.metrics).filter(([k]) => KEY_METRICS.test(k));
  if (metrics.length) parts.push(metrics.map(([k, v]) => `${k}=${k === 'progress' ? `${Math.round(v * 100)}%` : Number.isInteger(v) ? v : v.toFixed(2)}`).join(' '));
  if (s.message) parts.push(s.message);
  return parts.join('\n');
}

export function statusTable(status: PipelineStatus): string {
  const table = new Table({ head: ['stage', 'state', 'attempts', 'duration', 'details'], wordWrap: true, colWidths: [14, 11, 10, 12, 70], style: plainUnlessTty() });
  for (const s of status.stages) table.push([s.stage, colorState(s.state), String(s.attempts), formatDuration(stageDuration(s)), details(s)]);
  const head = `Run ${status.runDate} (${status.trigger}): ${colorState(status.state)}${status.currentStage ? `, stage ${status.currentStage}` : ''}`;
  const lines = [head, table.toString()];
  if (status.awaitingOperatorUntil) {
    lines.push(pc.magenta(`Waiting for an operator until ${status.awaitingOperatorUntil}: pipeline rerun <stage> ${status.runDate} | pipeline skip <stage> ${status.runDate}`));
  }
  if (status.quality?.length) {
    const q = new Table({ head: ['entity', 'check', 'value', 'threshold', 'passed'], style: plainUnlessTty() });
    for (const r of status.quality) q.push([r.entity, r.check, Number.isInteger(r.value) ? String(r.value) : r.value.toFixed(4), String(r.threshold), r.passed ? pc.green('yes') : pc.red('no')]);
    lines.push('Quality report:', q.toString());
  }
  for (const a of status.operatorActions) lines.push(pc.dim(`${a.at} ${a.signal}(${a.stage}) "${a.reason}": ${a.outcome}`));
  return lines.join('\n');
}
