/** Terminal rendering of a run's status. */
import Table from 'cli-table3';
import pc from 'picocolors';
import type { PipelineStatus, StageStatus } from '../workflows/definitions';

/**
 * `text` safe to print on a terminal: control characters (ESC, CR, backspace, NUL, C1 codes, and
 * the bidirectional overrides that reorder what is shown) are written as escapes such as `\x1b`, so
 * a corrupt header or a hostile file name cannot move the cursor, recolour or break a table.
 * Newlines stay with `keepNewlines` (a table cell, a two-line message); tabs become a space.
 */
export function printable(text: string, opts: { keepNewlines?: boolean } = {}): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    if (c === '\n' && opts.keepNewlines) return c;
    if (c === '\t') return ' ';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

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

const KEY_METRICS =
  /^(\w+\.(read|loaded|rejected|duplicates|rows|files|warehouse_rows)|orders\.revenue|polls|progress|dpuSeconds|bytesScanned|rowsAffected|failedChecks|checks|autoRestarts)$/;

function details(s: StageStatus): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(s.externalIds)) parts.push(printable(`${k}=${v}`));
  const metrics = Object.entries(s.metrics).filter(([k]) => KEY_METRICS.test(k));
  if (metrics.length)
    parts.push(
      printable(
        metrics.map(([k, v]) => `${k}=${k === 'progress' ? `${Math.round(v * 100)}%` : Number.isInteger(v) ? v : v.toFixed(2)}`).join(' '),
      ),
    );
  if (s.message) parts.push(printable(s.message, { keepNewlines: true }));
  return parts.join('\n');
}

export function statusTable(status: PipelineStatus): string {
  const table = new Table({
    head: ['stage', 'state', 'attempts', 'duration', 'details'],
    wordWrap: true,
    colWidths: [14, 11, 10, 12, 70],
    style: plainUnlessTty(),
  });
  for (const s of status.stages)
    table.push([printable(s.stage), colorState(printable(s.state)), String(s.attempts), formatDuration(stageDuration(s)), details(s)]);
  const head =
    printable(`Run ${status.runDate} (${status.trigger}): `) +
    colorState(printable(status.state)) +
    (status.currentStage ? printable(`, stage ${status.currentStage}`) : '');
  const lines = [head, table.toString()];
  if (status.awaitingOperatorUntil) {
    lines.push(
      pc.magenta(
        printable(
          `Waiting for an operator until ${status.awaitingOperatorUntil}: pipeline rerun <stage> ${status.runDate} -r "<why>" | pipeline skip <stage> ${status.runDate} -r "<why>"`,
        ),
      ),
    );
  }
  if (status.quality?.length) {
    const q = new Table({ head: ['entity', 'check', 'value', 'threshold', 'passed'], style: plainUnlessTty() });
    for (const r of status.quality)
      q.push([
        printable(r.entity),
        printable(r.check),
        Number.isInteger(r.value) ? String(r.value) : r.value.toFixed(4),
        String(r.threshold),
        r.passed ? pc.green('yes') : pc.red('no'),
      ]);
    lines.push('Quality report:', q.toString());
  }
  for (const a of status.operatorActions) lines.push(pc.dim(printable(`${a.at} ${a.signal}(${a.stage}) "${a.reason}": ${a.outcome}`)));
  return lines.join('\n');
}
