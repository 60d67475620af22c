/**
 * `pipeline report` as one self-contained HTML page: inline CSS and an inline SVG chart, no script,
 * no font, image or style from anywhere else (a Content-Security-Policy says so to the browser).
 * A pure function of ReportData; every value from the run or the warehouse is escaped.
 */
import { costFigures, formatDuration, keyCounts } from '../../activities/notify/format';
import type { QualityResult } from '../../shared/quality';
import type { StageStatus } from '../../workflows/definitions';
import type { DailyRevenue, EntityCounts, ReportData, WarehouseFacts } from './model';
import { addDays, countsFromStatus } from './model';

/** Text made safe for HTML element content and attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export const count = (v: number | undefined): string => (v === undefined ? '–' : v.toLocaleString('en-US', { maximumFractionDigits: 2 }));
export const money = (v: number): string => v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** A share check's value or threshold as a percentage ("99.2%"); row_count as a count. */
export function qualityFigure(check: string, v: number): string {
  if (check === 'row_count') return count(v);
  return `${(v * 100).toLocaleString('en-US', { maximumFractionDigits: 2 })}%`;
}

const STATE_CLASS: Record<string, string> = {
  succeeded: 'ok',
  failed: 'bad',
  cancelled: 'warn',
  skipped: 'warn',
  running: 'run',
  awaiting_operator: 'wait',
  pending: 'idle',
};

function badge(state: string, label = state): string {
  return `<span class="badge ${STATE_CLASS[state] ?? 'idle'}">${esc(label.replace(/_/g, ' '))}</span>`;
}

/** "2025-10-27 19:40:03 UTC" from an ISO timestamp. */
function when(iso: string | undefined): string {
  if (!iso) return '–';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return esc(iso);
  return `${new Date(t).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function durationMs(s: StageStatus, now: number): number | undefined {
  if (!s.startedAt) return undefined;
  const start = Date.parse(s.startedAt);
  const end = s.endedAt ? Date.parse(s.endedAt) : now;
  return Number.isFinite(start) && Number.isFinite(end) ? Math.max(0, end - start) : undefined;
}

const CSS = `
:root { --ink:#1f2328; --muted:#656d76; --line:#d8dee4; --bg:#f6f8fa; --card:#fff; --ok:#1a7f37; --ok-bg:#dafbe1; --bad:#cf222e; --bad-bg:#ffebe9;
  --warn:#9a6700; --warn-bg:#fff8c5; --run:#0969da; --run-bg:#ddf4ff; --wait:#8250df; --wait-bg:#fbefff; --idle:#656d76; --idle-bg:#eaeef2; --bar:#0969da; --today:#bf3989; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 24px 48px; }
header h1 { margin: 0 0 4px; font-size: 26px; font-weight: 650; }
header .meta { color: var(--muted); font-size: 13px; }
header .meta code { color: var(--ink); }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; margin-top: 18px; }
section h2 { margin: 0 0 12px; font-size: 17px; font-weight: 650; }
section h2 small { font-weight: 400; color: var(--muted); font-size: 13px; margin-left: 6px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; margin-top: 18px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 22px; font-weight: 650; margin-top: 2px; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .03em; background: var(--bg); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr:last-child td { border-bottom: none; }
td.details { color: var(--muted); font-size: 13px; max-width: 420px; overflow-wrap: anywhere; }
td.details .msg { color: var(--ink); }
.badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.badge.ok { color: var(--ok); background: var(--ok-bg); } .badge.bad { color: var(--bad); background: var(--bad-bg); }
.badge.warn { color: var(--warn); background: var(--warn-bg); } .badge.run { color: var(--run); background: var(--run-bg); }
.badge.wait { color: var(--wait); background: var(--wait-bg); } .badge.idle { color: var(--idle); background: var(--idle-bg); }
.gantt { position: relative; height: 10px; min-width: 160px; background: var(--bg); border-radius: 5px; margin-top: 5px; }
.gantt span { position: absolute; top: 0; bottom: 0; border-radius: 5px; min-width: 3px; }
.gantt .ok { background: var(--ok); } .gantt .bad { background: var(--bad); } .gantt .warn { background: var(--warn); }
.gantt .run { background: var(--run); } .gantt .wait { background: var(--wait); } .gantt .idle { background: var(--idle); }
tr.fail td { background: #fff5f5; }
.hbar { display: inline-block; height: 8px; background: var(--bad); opacity: .55; border-radius: 4px; vertical-align: middle; }
.note { border-left: 4px solid var(--warn); background: var(--warn-bg); padding: 10px 14px; border-radius: 6px; margin: 0; }
.muted { color: var(--muted); }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
details summary { cursor: pointer; color: var(--run); margin-top: 10px; }
svg text { font-family: inherit; }
footer { color: var(--muted); font-size: 12px; margin-top: 22px; text-align: center; }
@media print { body { background: #fff; } section, .card { break-inside: avoid; } }
`;

function header(d: ReportData): string {
  const s = d.status;
  const state = s?.state ?? (d.execution ?? 'unknown').toLowerCase();
  const meta = [
    s ? `trigger <b>${esc(s.trigger)}</b>` : '',
    d.workflowId ? `workflow <code>${esc(d.workflowId)}</code>` : '',
    d.runId ? `run <code>${esc(d.runId)}</code>` : '',
    d.execution ? `execution ${esc(d.execution.toLowerCase())}` : '',
    `${esc(d.backend)} backend`,
    d.runUrl ? `<a href="${esc(d.runUrl)}">open in the Temporal Web UI</a>` : '',
  ].filter(Boolean);
  const current = s?.currentStage && s.state !== 'succeeded' ? ` <span class="muted">at ${esc(s.currentStage)}</span>` : '';
  return `<header>
  <h1>Pipeline report · <span id="run-date">${esc(d.runDate)}</span> ${badge(state)}${current}</h1>
  <div class="meta">${meta.join(' · ')}</div>
  ${s?.awaitingOperatorUntil ? `<p class="note" style="margin-top:10px">Waiting for an operator until ${esc(when(s.awaitingOperatorUntil))}: <code>pipeline rerun &lt;stage&gt; ${esc(d.runDate)} -r "…"</code> or <code>pipeline skip &lt;stage&gt; ${esc(d.runDate)} -r "…"</code></p>` : ''}
  ${d.statusNote ? `<p class="note" style="margin-top:10px">${esc(d.statusNote)}</p>` : ''}
</header>`;
}

function cards(d: ReportData, counts: EntityCounts[] | undefined): string {
  const items: [string, string][] = [];
  const s = d.status;
  const orders = counts?.find((c) => c.entity === 'orders');
  if (orders?.loaded !== undefined) items.push(['orders loaded', count(orders.loaded)]);
  const revenue = s?.stages.map((x) => x.metrics['orders.revenue']).find((v) => v !== undefined);
  const day = d.warehouse?.revenue.find((r) => r.date === d.runDate);
  if (revenue !== undefined) items.push(['batch revenue', money(revenue)]);
  else if (day) items.push([`revenue on ${d.runDate}`, money(day.revenue)]);
  if (s?.quality?.length) items.push(['quality checks passed', `${s.quality.filter((q) => q.passed).length} / ${s.quality.length}`]);
  if (d.warehouse) items.push(['rejected rows', count(d.warehouse.rejectTotal)]);
  else {
    const rejected = counts?.reduce((sum, c) => sum + (c.rejected ?? 0), 0);
    if (rejected !== undefined) items.push(['rejected rows', count(rejected)]);
  }
  if (s) items.push(['not read', count(s.unread?.length ?? 0)]);
  if (!items.length) return '';
  return `<div class="cards">${items.map(([label, value]) => `<div class="card"><div class="label">${esc(label)}</div><div class="value">${esc(value)}</div></div>`).join('')}</div>`;
}

function stagesSection(d: ReportData): string {
  const s = d.status;
  if (!s) return `<section id="stages"><h2>Stages</h2><p class="muted">No status: the stages are not known.</p></section>`;
  const now = Date.parse(d.generatedAt);
  const starts = s.stages.map((x) => Date.parse(x.startedAt ?? '')).filter(Number.isFinite);
  const ends = s.stages.map((x) => (x.startedAt ? Date.parse(x.endedAt ?? d.generatedAt) : NaN)).filter(Number.isFinite);
  const t0 = starts.length ? Math.min(...starts) : 0;
  const span = Math.max(1, (ends.length ? Math.max(...ends) : t0) - t0);
  const total = ends.length ? Math.max(...ends) - t0 : undefined;
  const rows = s.stages.map((x) => {
    const ms = durationMs(x, now);
    let gantt = '';
    if (x.startedAt && ms !== undefined) {
      const left = ((Date.parse(x.startedAt) - t0) / span) * 100;
      const width = Math.max(0.6, (ms / span) * 100);
      gantt = `<div class="gantt" aria-hidden="true"><span class="${STATE_CLASS[x.state] ?? 'idle'}" style="left:${left.toFixed(2)}%;width:${Math.min(width, 100 - left).toFixed(2)}%"></span></div>`;
    }
    const figures = [keyCounts(x.metrics), costFigures(x.metrics)].filter(Boolean).join('; ');
    const details = [x.message ? `<div class="msg">${esc(x.message)}</div>` : '', figures ? `<div>${esc(figures)}</div>` : ''].join('');
    return `<tr data-stage="${esc(x.stage)}">
      <td><b>${esc(x.stage)}</b>${gantt}</td><td>${badge(x.state)}</td><td class="num">${esc(when(x.startedAt))}</td>
      <td class="num">${x.startedAt ? esc(formatDuration(ms)) : '–'}</td><td class="num">${esc(x.attempts)}</td><td class="details">${details}</td></tr>`;
  });
  return `<section id="stages"><h2>Stages${total !== undefined ? `<small>${esc(formatDuration(total))} from first start to last end</small>` : ''}</h2>
  <table><thead><tr><th>stage</th><th>state</th><th class="num">started</th><th class="num">duration</th><th class="num">attempts</th><th>details</th></tr></thead>
  <tbody>${rows.join('')}</tbody></table>${operatorActions(d)}</section>`;
}

function operatorActions(d: ReportData): string {
  const actions = d.status?.operatorActions ?? [];
  if (!actions.length) return '';
  const items = actions.map(
    (a) => `<li>${esc(when(a.at))}: <b>${esc(a.signal)}</b>(${esc(a.stage)}) “${esc(a.reason)}”: ${esc(a.outcome)}</li>`,
  );
  return `<h3 style="font-size:14px;margin:16px 0 4px">Operator actions</h3><ul>${items.join('')}</ul>`;
}

function qualitySection(quality: QualityResult[] | undefined): string {
  if (!quality?.length)
    return `<section id="quality"><h2>Quality checks</h2><p class="muted">No quality checks recorded (the validate stage has not run, or was skipped).</p></section>`;
  const passed = quality.filter((q) => q.passed).length;
  const rows = quality.map(
    (
      q,
    ) => `<tr class="${q.passed ? 'pass' : 'fail'}" data-check="${esc(`${q.entity}.${q.check}`)}"><td>${esc(q.entity)}</td><td>${esc(q.check.replace(/_/g, ' '))}</td>
      <td class="num">${esc(qualityFigure(q.check, q.value))}</td><td class="num">≥ ${esc(qualityFigure(q.check, q.threshold))}</td>
      <td>${q.passed ? badge('succeeded', '✓ pass') : badge('failed', '✗ fail')}</td></tr>`,
  );
  return `<section id="quality"><h2>Quality checks<small>${passed} of ${quality.length} passed</small></h2>
  <table><thead><tr><th>entity</th><th>check</th><th class="num">value</th><th class="num">threshold</th><th>result</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function countsSection(counts: EntityCounts[] | undefined, source: string): string {
  if (!counts?.length)
    return `<section id="counts"><h2>Rows per entity</h2><p class="muted">No row counts recorded (the transform stage has not run).</p></section>`;
  const rows = counts.map(
    (
      c,
    ) => `<tr data-entity="${esc(c.entity)}"><td><b>${esc(c.entity)}</b></td><td class="num">${esc(count(c.read))}</td><td class="num">${esc(count(c.loaded))}</td>
      <td class="num">${esc(count(c.rejected))}</td><td class="num">${esc(count(c.duplicates))}</td></tr>`,
  );
  return `<section id="counts"><h2>Rows per entity<small>${esc(source)}</small></h2>
  <table><thead><tr><th>entity</th><th class="num">read</th><th class="num">loaded</th><th class="num">rejected</th><th class="num">duplicates</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function rejectsSection(w: WarehouseFacts): string {
  if (!w.rejectReasons.length)
    return `<section id="rejects"><h2>Rejects</h2><p class="muted">No row of this batch was rejected.</p></section>`;
  const max = Math.max(...w.rejectReasons.map((r) => r.count));
  const rows = w.rejectReasons.map(
    (
      r,
    ) => `<tr data-reason="${esc(`${r.entity}.${r.reason}`)}"><td>${esc(r.entity)}</td><td><code>${esc(r.reason)}</code></td><td class="num">${esc(count(r.count))}</td>
      <td style="width:40%"><span class="hbar" style="width:${((r.count / max) * 100).toFixed(1)}%"></span></td></tr>`,
  );
  const samples = w.rejectSamples.map(
    (r) =>
      `<tr><td>${esc(r.entity)}</td><td><code>${esc(r.sourceFile)}</code></td><td class="num">${esc(r.rowNumber)}</td><td><code>${esc(r.reason)}</code></td><td><pre>${esc(r.rawRecord)}</pre></td></tr>`,
  );
  const more =
    w.rejectTotal > w.rejectSamples.length
      ? ` (the first ${w.rejectSamples.length} of ${count(w.rejectTotal)}; all are in <code>analytics.rejects</code>)`
      : '';
  return `<section id="rejects"><h2>Rejects<small>${esc(count(w.rejectTotal))} rows, by reason</small></h2>
  <table><thead><tr><th>entity</th><th>reason</th><th class="num">rows</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>
  <details><summary>The rejected rows${more}</summary>
  <table><thead><tr><th>entity</th><th>file</th><th class="num">row</th><th>reason</th><th>record</th></tr></thead><tbody>${samples.join('')}</tbody></table></details></section>`;
}

/** Round step for about `target` axis ticks up to `max`: 1, 2 or 5 times a power of ten. */
function niceStep(max: number, target = 5): number {
  const raw = max / target;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const f = raw / pow;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * pow;
}

function shortMoney(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toLocaleString('en-US', { maximumFractionDigits: 1 })}M`;
  if (v >= 1e4) return `${(v / 1e3).toLocaleString('en-US', { maximumFractionDigits: 1 })}k`;
  return v.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** Bars of revenue per day, one slot per day from `from` to `to`; days without revenue have no bar. */
export function revenueChart(from: string, to: string, days: DailyRevenue[], highlight: string): string {
  const slots: string[] = [];
  for (let day = from; day <= to; day = addDays(day, 1)) slots.push(day);
  const W = 1040;
  const H = 320;
  const m = { l: 72, r: 16, t: 24, b: 58 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const max = Math.max(0, ...days.map((d) => d.revenue));
  const step = max > 0 ? niceStep(max) : 1;
  const top = max > 0 ? Math.ceil(max / step) * step : 1;
  const slot = pw / Math.max(1, slots.length);
  const bw = Math.max(2, slot * 0.72);
  const y = (v: number) => m.t + ph - (v / top) * ph;
  const parts: string[] = [];
  for (let v = 0; v <= top + step / 2; v += step) {
    parts.push(
      `<line x1="${m.l}" x2="${W - m.r}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#d8dee4" stroke-width="1"${v === 0 ? '' : ' stroke-dasharray="3 3"'}/>`,
    );
    parts.push(
      `<text x="${m.l - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="12" fill="#656d76">${esc(shortMoney(v))}</text>`,
    );
  }
  const byDay = new Map(days.map((d) => [d.date, d]));
  const labelEvery = Math.ceil(slots.length / 10);
  const showValues = days.length <= 12;
  slots.forEach((day, i) => {
    const cx = m.l + slot * i + slot / 2;
    const last = i === slots.length - 1;
    // Every few days and the last; a periodic label too close to the last one is left out.
    if ((i % labelEvery === 0 && slots.length - 1 - i >= Math.max(2, labelEvery * 0.7)) || last) {
      const anchor = last ? 'end' : i === 0 ? 'start' : 'middle';
      const x = last ? cx + slot / 2 : i === 0 ? cx - slot / 2 : cx;
      parts.push(`<line x1="${cx.toFixed(1)}" x2="${cx.toFixed(1)}" y1="${m.t + ph}" y2="${m.t + ph + 5}" stroke="#8c959f"/>`);
      parts.push(
        `<text x="${x.toFixed(1)}" y="${m.t + ph + 20}" text-anchor="${anchor}" font-size="12" fill="#656d76">${esc(day.slice(5))}</text>`,
      );
    }
    const d = byDay.get(day);
    if (!d || d.revenue <= 0) return;
    const h = Math.max(1, m.t + ph - y(d.revenue));
    const fill = day === highlight ? '#bf3989' : '#0969da';
    parts.push(
      `<rect class="bar" data-date="${esc(day)}" data-revenue="${esc(d.revenue)}" x="${(cx - bw / 2).toFixed(1)}" y="${(m.t + ph - h).toFixed(1)}" width="${bw.toFixed(1)}" height="${h.toFixed(1)}" rx="2" fill="${fill}"><title>${esc(`${day}: ${money(d.revenue)} (${count(d.orders)} orders)`)}</title></rect>`,
    );
    if (showValues)
      parts.push(
        `<text x="${cx.toFixed(1)}" y="${(m.t + ph - h - 6).toFixed(1)}" text-anchor="middle" font-size="12" font-weight="600" fill="#1f2328">${esc(money(d.revenue))}</text>`,
      );
  });
  parts.push(
    `<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle" font-size="12" fill="#656d76">order date (${esc(from)} to ${esc(to)}; ${esc(highlight)} in pink)</text>`,
  );
  parts.push(
    `<text x="16" y="${m.t + ph / 2}" text-anchor="middle" font-size="12" fill="#656d76" transform="rotate(-90 16 ${m.t + ph / 2})">revenue</text>`,
  );
  return `<svg id="revenue-chart" role="img" aria-label="${esc(`Revenue per day, ${from} to ${to}`)}" viewBox="0 0 ${W} ${H}" width="100%" style="max-width:${W}px" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}

function revenueSection(d: ReportData, w: WarehouseFacts): string {
  const total = w.revenue.reduce((s, r) => s + r.revenue, 0);
  const body = w.revenue.length
    ? revenueChart(w.revenueFrom, w.revenueTo, w.revenue, d.runDate)
    : `<p class="muted">No revenue in <code>analytics.agg_daily_sales</code> from ${esc(w.revenueFrom)} to ${esc(w.revenueTo)}.</p>`;
  return `<section id="revenue"><h2>Revenue, last 30 days<small>${esc(money(total))} over ${w.revenue.length} day${w.revenue.length === 1 ? '' : 's'} with orders, from analytics.agg_daily_sales</small></h2>${body}</section>`;
}

function costSection(d: ReportData): string {
  const rows = (d.status?.stages ?? []).map((s) => [s.stage, costFigures(s.metrics)] as const).filter(([, c]) => c);
  if (!rows.length) return '';
  return `<section id="cost"><h2>Cost figures<small>what the backend bills by</small></h2><table><thead><tr><th>stage</th><th>figures</th></tr></thead><tbody>${rows
    .map(([stage, c]) => `<tr><td><b>${esc(stage)}</b></td><td>${esc(c)}</td></tr>`)
    .join('')}</tbody></table></section>`;
}

function unreadSection(d: ReportData): string {
  const unread = d.status?.unread ?? [];
  if (!unread.length) return '';
  const rows = unread.map((u) => `<tr><td><code>${esc(u.key)}</code></td><td>${esc(u.reason)}</td></tr>`);
  return `<section id="unread"><h2>Not read<small>${unread.length} item${unread.length === 1 ? '' : 's'} in the partitions; nothing of these is in the warehouse</small></h2>
  <table><thead><tr><th>item</th><th>why</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

export function renderReport(d: ReportData): string {
  const fromWarehouse = d.warehouse?.counts;
  const counts = fromWarehouse ?? countsFromStatus(d.status);
  const source = fromWarehouse ? "from the warehouse's load audit of this batch" : "from the run's stage metrics";
  const warehouseParts = d.warehouse
    ? `${rejectsSection(d.warehouse)}${revenueSection(d, d.warehouse)}`
    : `<section id="warehouse-note"><h2>Warehouse</h2><p class="note">${esc(d.warehouseNote ?? 'The warehouse was not read.')}</p></section>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Pipeline report ${esc(d.runDate)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${header(d)}
${cards(d, counts)}
${stagesSection(d)}
${qualitySection(d.status?.quality)}
${countsSection(counts, source)}
${warehouseParts}
${costSection(d)}
${unreadSection(d)}
<footer>Generated ${esc(when(d.generatedAt))} by <code>pipeline report ${esc(d.runDate)}</code></footer>
</main>
</body>
</html>
`;
}
