/**
 * `pipeline report`: the HTML report of a day, over a real warehouse built by the local backend's
 * activities from the golden dataset, and a status made of that day's real job metrics and quality
 * results. The file is opened in headless Chromium (Debian's) with every network request blocked;
 * what a person sees is asserted, and a full-page screenshot is kept as test-results/report.png.
 * Then `pipeline report` through bin/pipeline against a dev server with no run for the date.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costFigures } from '../../src/activities/notify/format';
import type { CrawlStatus } from '../../src/activities/types';
import { gatherWarehouse } from '../../src/client/report/gather';
import type { ReportData } from '../../src/client/report/model';
import { renderReport } from '../../src/client/report/render';
import { ENTITIES, STAGES } from '../../src/shared/contract';
import type { StageName } from '../../src/shared/contract';
import type { QualityResult } from '../../src/shared/quality';
import { pageToRecords, toQualityResults } from '../../src/shared/results';
import type { PipelineStatus, StageStatus } from '../../src/workflows/definitions';
import { SA_RUN_DATE, SA_STAGE, SA_STATUS, SA_TRIGGER } from '../../src/workflows/definitions';
import { pipelineCliEnv } from '../support/cli-env';
import { startTestDevServer } from '../support/temporal/dev-server';
import type { TestDevServer } from '../support/temporal/dev-server';
import { copyRaw, GOLDEN, GOLDEN_DATE, localConfig, open, runDay, runRef, tempDir } from '../local/support';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.join(__dirname, '..', '..');
const RESULTS = path.join(ROOT, 'test-results');
const CLI = path.join(ROOT, 'bin', 'pipeline');
/** Planted in a stage message: must show as text, never become an element (or a request). */
const SKIP_REASON = 'the golden data is dirty on purpose';
const TASK_QUEUE = 'report-test';
const HOSTILE = '<img src="http://127.0.0.1:9/pwned.png" id="pwned"> & "quotes"';

let root: string;
let warehousePath: string;
let status: PipelineStatus;
let quality: QualityResult[];
/** What the warehouse itself holds for the day, read with the activities' own engine. */
let audit: Record<string, unknown>;
let rejectReasons: { entity: string; reason: string; n: number }[];
let revenueDays: string[];
let browser: Browser;
let page: Page;
const requested: string[] = [];

function stage(
  name: StageName,
  startedMs: number,
  ms: number,
  metrics: Record<string, number> | undefined,
  extra: Partial<StageStatus> = {},
): StageStatus {
  return {
    stage: name,
    state: 'succeeded',
    attempts: 1,
    startedAt: new Date(startedMs).toISOString(),
    endedAt: new Date(startedMs + ms).toISOString(),
    externalIds: {},
    metrics: { ...(metrics ?? {}) },
    ...extra,
  };
}

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium with \`bash scripts/setup/40-chromium.sh\``);
  root = tempDir('pipeline-report');
  const config = localConfig(root);
  warehousePath = config.warehousePath;
  copyRaw(GOLDEN, config.lakeDir);
  const a = open(config);
  const began = Date.now();
  let crawl: CrawlStatus;
  try {
    const day = await runDay(a, GOLDEN_DATE);
    crawl = day.crawl as CrawlStatus;
    quality = toQualityResults(pageToRecords(await a.getQueryResults({ run: runRef(GOLDEN_DATE, 'validate'), queryId: day.queryId })));
    const ended = Date.now();
    const t = (share: number) => began + Math.round((ended - began) * share);
    const ms = (from: number, to: number) => t(to) - t(from);
    status = {
      runDate: GOLDEN_DATE,
      trigger: 'manual',
      state: 'succeeded',
      currentStage: 'notify',
      stages: [
        stage('extract', t(0), 0, {}, { state: 'skipped', attempts: 0, message: 'extract not configured' }),
        stage('awaitRawData', t(0), ms(0, 0.05), { polls: 1 }),
        stage('catalog', t(0.05), ms(0.05, 0.3), crawl.metrics, {
          message: crawl.unread?.length ? `${crawl.unread.length} item(s) not read` : undefined,
        }),
        // The golden data is dirty on purpose: its gate fails, and an operator skipped it.
        stage(
          'validate',
          t(0.3),
          ms(0.3, 0.45),
          { ...day.quality.metrics, checks: quality.length, failedChecks: quality.filter((q) => !q.passed).length },
          {
            state: 'skipped',
            message: `skipped by operator: ${SKIP_REASON}`,
          },
        ),
        stage('transform', t(0.45), ms(0.45, 0.75), day.etl.metrics, { attempts: 2 }),
        stage('load', t(0.75), ms(0.75, 0.9), day.load.metrics),
        stage('verify', t(0.9), ms(0.9, 0.98), day.verify.metrics),
        stage('notify', t(0.98), ms(0.98, 1), {}, { message: `webhook failed: ${HOSTILE}` }),
      ],
      quality,
      unread: crawl.unread,
      operatorActions: [
        { at: new Date(t(0.45)).toISOString(), signal: 'skipStage', stage: 'validate', reason: SKIP_REASON, outcome: 'applied' },
      ],
      noticesSent: ['succeeded'],
    };
    audit = (await a.engine.query(`SELECT * FROM analytics.load_audit WHERE batch_date = DATE '${GOLDEN_DATE}'`))[0]!;
    rejectReasons = (
      await a.engine.query(
        `SELECT entity, reason, count(*) AS n FROM analytics.rejects WHERE batch_date = DATE '${GOLDEN_DATE}' GROUP BY ALL`,
      )
    ).map((r) => ({
      entity: String(r.entity),
      reason: String(r.reason),
      n: Number(r.n),
    }));
    revenueDays = (
      await a.engine.query(
        `SELECT CAST(order_date AS VARCHAR) AS d FROM analytics.agg_daily_sales WHERE total_revenue > 0 AND order_date BETWEEN DATE '${GOLDEN_DATE}' - 29 AND DATE '${GOLDEN_DATE}' ORDER BY 1`,
      )
    ).map((r) => String(r.d));
  } finally {
    await a.close();
  }

  fs.mkdirSync(RESULTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Everything but the report file itself is refused, and counted.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file://')) return route.continue();
    requested.push(url);
    return route.abort();
  });
  context.on('request', (r) => {
    if (!r.url().startsWith('file://') && !requested.includes(r.url())) requested.push(r.url());
  });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('pipeline report: the HTML page', () => {
  let file: string;
  let data: ReportData;

  it('renders a day of the golden dataset into one self-contained file', async () => {
    const facts = await gatherWarehouse('local', warehousePath, GOLDEN_DATE);
    expect(facts.warehouseNote).toBeUndefined();
    data = {
      runDate: GOLDEN_DATE,
      generatedAt: new Date().toISOString(),
      backend: 'local',
      workflowId: `daily-pipeline-${GOLDEN_DATE}`,
      runId: '0199-test-run',
      execution: 'COMPLETED',
      status,
      ...facts,
    };
    const html = renderReport(data);
    file = path.join(root, `report-${GOLDEN_DATE}.html`);
    fs.writeFileSync(file, html);
    // Nothing to fetch: no script, no external stylesheet, font or image.
    expect(html).not.toMatch(/<script|<link\b|@import|url\(|@font-face/i);
    expect(html).not.toContain(HOSTILE);
    expect(html).toContain('&lt;img src=&quot;http://127.0.0.1:9/pwned.png&quot;');
  });

  it('shows the date, every stage with its state, and nothing is fetched', async () => {
    await page.goto(`file://${file}`);
    await page.locator('#revenue-chart').waitFor();
    await page.screenshot({ path: path.join(RESULTS, 'report.png'), fullPage: true });
    expect(fs.statSync(path.join(RESULTS, 'report.png')).size).toBeGreaterThan(20_000);
    expect(requested).toEqual([]);

    expect(await page.title()).toContain(GOLDEN_DATE);
    expect(await page.locator('h1').innerText()).toContain(GOLDEN_DATE);
    for (const s of status.stages) {
      const row = page.locator(`#stages tr[data-stage="${s.stage}"]`);
      expect(await row.count(), s.stage).toBe(1);
      const cells = await row.locator('td').allInnerTexts();
      expect(cells[0]).toBe(s.stage);
      expect(cells[1]).toBe(s.state);
    }
    expect(status.stages.map((s) => s.stage)).toEqual([...STAGES]);
    expect(await page.locator('#stages tr[data-stage="validate"]').innerText()).toContain(SKIP_REASON);
    expect(await page.locator('#stages').innerText()).toMatch(/skipStage\(validate\) “the golden data is dirty on purpose”: applied/);
    expect(await page.locator('#stages tr[data-stage="transform"] td').nth(4).innerText()).toBe('2');
    // The planted markup is shown as text and is no element.
    expect(await page.locator('#pwned').count()).toBe(0);
    expect(await page.locator('#stages tr[data-stage="notify"]').innerText()).toContain(HOSTILE);
  });

  it('shows each quality check against its threshold, pass or fail', async () => {
    expect(quality.length).toBeGreaterThan(0);
    const pct = (v: number) => `${(v * 100).toLocaleString('en-US', { maximumFractionDigits: 2 })}%`;
    for (const q of quality) {
      const row = page.locator(`#quality tr[data-check="${q.entity}.${q.check}"]`);
      expect(await row.count()).toBe(1);
      const cells = await row.locator('td').allInnerTexts();
      expect(cells[0]).toBe(q.entity);
      expect(cells[1]).toBe(q.check.replace(/_/g, ' '));
      expect(cells[3]).toBe(`≥ ${q.check === 'row_count' ? q.threshold.toLocaleString('en-US') : pct(q.threshold)}`);
      expect(cells[4]).toMatch(q.passed ? /pass/ : /fail/);
    }
    expect(await page.locator('#quality h2').innerText()).toContain(
      `${quality.filter((q) => q.passed).length} of ${quality.length} passed`,
    );
  });

  it("shows rows read / loaded / rejected / duplicates per entity, equal to the warehouse's load audit", async () => {
    for (const entity of ENTITIES) {
      const cells = await page.locator(`#counts tr[data-entity="${entity}"] td`).allInnerTexts();
      const expected = ['read', 'loaded', 'rejected', 'duplicates'].map((m) => Number(audit[`${entity}_${m}`]).toLocaleString('en-US'));
      expect(cells.slice(1), entity).toEqual(expected);
    }
    // And the same as the transform stage reported.
    const transform = status.stages.find((s) => s.stage === 'transform')!;
    expect(Number(audit.orders_loaded)).toBe(transform.metrics['orders.loaded']);
  });

  it('shows the reject reasons with their counts', async () => {
    expect(rejectReasons.length).toBeGreaterThan(0);
    for (const r of rejectReasons) {
      const cells = await page.locator(`#rejects tr[data-reason="${r.entity}.${r.reason}"] td`).allInnerTexts();
      expect(cells.slice(0, 3)).toEqual([r.entity, r.reason, r.n.toLocaleString('en-US')]);
    }
    const total = rejectReasons.reduce((s, r) => s + r.n, 0);
    expect(await page.locator('#rejects h2').innerText()).toContain(`${total} rows`);
  });

  it('charts 30 days of revenue as inline SVG: one bar per day that has revenue, with axis labels', async () => {
    expect(revenueDays.length).toBeGreaterThan(0);
    const bars = page.locator('#revenue-chart rect.bar');
    expect(await bars.count()).toBe(revenueDays.length);
    const dates = await bars.evaluateAll((els) => els.map((e) => e.getAttribute('data-date')));
    expect(dates).toEqual(revenueDays);
    // A day after the run date (the golden data has orders dated 2025-10-28) is not in the chart.
    expect(dates).not.toContain('2025-10-28');
    const labels = await page.locator('#revenue-chart text').allTextContents();
    expect(labels).toContain('10-27');
    expect(labels).toContain('0');
    expect(labels.some((l) => /revenue/.test(l))).toBe(true);
    for (const bar of await bars.all()) expect((await bar.boundingBox())!.height).toBeGreaterThan(0);
  });

  it('names what was not read', async () => {
    expect(status.unread?.length).toBeGreaterThan(0);
    const text = await page.locator('#unread').innerText();
    for (const u of status.unread!) expect(text).toContain(u.key);
  });

  it('leaves the warehouse parts out, with a visible note, on the aws backend', async () => {
    // The Glue job's and Athena's figures, as an aws run's stages carry them.
    const stages = status.stages.map((s) =>
      s.stage === 'transform'
        ? { ...s, metrics: { ...s.metrics, dpuSeconds: 1234.5 } }
        : s.stage === 'validate'
          ? { ...s, metrics: { ...s.metrics, bytesScanned: 3_400_000 } }
          : s,
    );
    const aws = renderReport({
      ...data,
      backend: 'aws',
      status: { ...status, stages },
      warehouse: undefined,
      ...(await gatherWarehouse('aws', warehousePath, GOLDEN_DATE)),
    });
    const awsFile = path.join(root, 'report-aws.html');
    fs.writeFileSync(awsFile, aws);
    await page.goto(`file://${awsFile}`);
    expect(await page.locator('#warehouse-note').innerText()).toMatch(/aws backend.*left out/);
    expect(await page.locator('#revenue-chart').count()).toBe(0);
    // The status parts still work, the counts from the stages' metrics.
    expect(await page.locator('#stages tr[data-stage]').count()).toBe(STAGES.length);
    expect(await page.locator('#counts h2').innerText()).toContain('stage metrics');
    for (const entity of ENTITIES) {
      const cells = await page.locator(`#counts tr[data-entity="${entity}"] td`).allInnerTexts();
      expect(cells[2], entity).toBe(Number(audit[`${entity}_loaded`]).toLocaleString('en-US'));
    }
    // Cost figures, worded as the notice words them.
    const cost = await page.locator('#cost').innerText();
    expect(cost).toContain(costFigures(stages.find((s) => s.stage === 'transform')!.metrics));
    expect(cost).toContain('1,234.5 DPU-seconds');
    expect(cost).toContain('3.4 MB scanned');
    await page.screenshot({ path: path.join(RESULTS, 'report-aws.png'), fullPage: true });
    expect(requested).toEqual([]);
  });
});

describe('pipeline report through the CLI', () => {
  let server: TestDevServer | undefined;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    server = await startTestDevServer();
    // The warehouse built above is the one the CLI reads (PIPELINE_WAREHOUSE_PATH under root).
    env = pipelineCliEnv(server, root, TASK_QUEUE, { PIPELINE_FROM_SOURCE: '1' });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  function pipeline(args: string[], cwd: string): Promise<{ code: number | null; out: string; err: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(CLI, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, out, err });
      });
    });
  }

  it('fails with one line when no run exists for the date', async () => {
    const r = await pipeline(['report', '2031-01-01'], root);
    const lines = r.err.split('\n').filter((l) => l.trim() !== '');
    expect(lines, r.err).toHaveLength(1);
    expect(lines[0]).toMatch(/^pipeline: no pipeline run for 2031-01-01 in namespace default .*`pipeline run --date 2031-01-01`$/);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(fs.existsSync(path.join(root, 'report-2031-01-01.html'))).toBe(false);
  }, 60_000);

  it('writes report-<date>.html in the current folder and prints its path, saying what it could not learn', async () => {
    // A run no worker serves: the status query gets no answer, the warehouse parts still come.
    const handle = await server!.client.workflow.start('dailyPipeline', {
      taskQueue: TASK_QUEUE,
      workflowId: `daily-pipeline-${GOLDEN_DATE}`,
      args: [{ runDate: GOLDEN_DATE, trigger: 'manual' }],
      typedSearchAttributes: [
        { key: SA_RUN_DATE, value: GOLDEN_DATE },
        { key: SA_TRIGGER, value: 'manual' },
        { key: SA_STAGE, value: 'awaitRawData' },
        { key: SA_STATUS, value: 'running' },
      ],
    });
    try {
      const cwd = path.join(root, 'cli');
      fs.mkdirSync(cwd);
      const r = await pipeline(['report', GOLDEN_DATE], cwd);
      const expected = path.join(cwd, `report-${GOLDEN_DATE}.html`);
      expect(r.err, `${r.out}\n${r.err}`).toBe('');
      expect(r.code).toBe(0);
      expect(r.out.trim()).toBe(expected);
      await page.goto(`file://${expected}`);
      expect(await page.locator('h1').innerText()).toContain(GOLDEN_DATE);
      expect(await page.locator('header').innerText()).toMatch(/No worker answered the status query/);
      expect(await page.locator('#revenue-chart rect.bar').count()).toBe(revenueDays.length);
      expect(await page.locator('#counts tr[data-entity="orders"] td').nth(2).innerText()).toBe(
        Number(audit.orders_loaded).toLocaleString('en-US'),
      );
      expect(requested).toEqual([]);

      const other = path.join(root, 'elsewhere.html');
      const o = await pipeline(['report', GOLDEN_DATE, '--out', other], cwd);
      expect(o.code, o.err).toBe(0);
      expect(o.out.trim()).toBe(other);
      expect(fs.readFileSync(other, 'utf8')).toContain(`<title>Pipeline report ${GOLDEN_DATE}</title>`);
    } finally {
      await handle.terminate('report test done');
    }
  }, 60_000);
});
