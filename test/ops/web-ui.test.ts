/**
 * The Temporal Web UI as an operator uses it, in headless Chromium: find the run for a date by its
 * PipelineRunDate search attribute, open it, and see its final status and every stage's state.
 * Screenshots go to test-results/ (kept by CI as artifacts, ignored by git).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { backfillSchedule, createOrUpdateSchedule, defaultSettings, describeSchedule } from '../../src/schedule';
import { STAGES } from '../../src/shared/contract';
import { createPipelineWorker, workflowsEntry } from '../../src/worker';
import type { PipelineWorker } from '../../src/worker';
import { FakeBackend } from '../../tools/fake-backend';
import { startTestDevServer } from '../support/temporal/dev-server';
import type { TestDevServer } from '../support/temporal/dev-server';

const CHROMIUM = '/usr/bin/chromium';
const RESULTS = path.join(__dirname, '..', '..', 'test-results');
const RUN_DATE = '2025-10-27';
const TASK_QUEUE = 'ops-web-ui';

let server: TestDevServer;
let pipelineWorker: PipelineWorker;
let workerRunning: Promise<void>;
let browser: Browser;
let page: Page;
let workflowId: string;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium with \`bash scripts/setup/40-chromium.sh\``);
  }
  server = await startTestDevServer({ headless: false });
  const bundle = await bundleWorkflowCode({ workflowsPath: workflowsEntry(), logger: quiet() });
  pipelineWorker = await createPipelineWorker({
    config: loadConfig({ TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace, PIPELINE_TASK_QUEUE: TASK_QUEUE }),
    connection: server.nativeConnection,
    activities: new FakeBackend().activities(),
    workflowBundle: bundle,
  });
  // The worker keeps running while the browser looks: the UI asks it for the run's current details.
  workerRunning = pipelineWorker.run();

  // The run comes from the schedule, as in production: a one-day backfill.
  await createOrUpdateSchedule(server.client, { ...defaultSettings(TASK_QUEUE), createPaused: { note: 'web UI test' } });
  await backfillSchedule(server.client, 'daily-ecommerce-pipeline', RUN_DATE, RUN_DATE, 'BUFFER_ALL');
  const deadline = Date.now() + 60_000;
  for (;;) {
    const action = (await describeSchedule(server.client, 'daily-ecommerce-pipeline')).info.recentActions[0];
    if (action) {
      workflowId = action.action.workflow.workflowId;
      break;
    }
    if (Date.now() > deadline) throw new Error('the backfill started no run within 60 s');
    await new Promise((r) => setTimeout(r, 250));
  }
  await server.client.workflow.getHandle(workflowId).result();

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
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(30_000);
});

afterAll(async () => {
  await browser?.close();
  if (pipelineWorker) {
    pipelineWorker.worker.shutdown();
    await workerRunning;
  }
  await server?.stop();
});

/** The text of the first frame that shows `heading`, waiting for the UI to render it. */
async function detailsFrameText(p: Page, heading: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    for (const frame of p.frames()) {
      const text = await frame
        .locator('body')
        .innerText()
        .catch(() => '');
      if (text.includes(heading)) return text;
    }
    await p.waitForTimeout(250);
  }
  throw new Error(`no frame showed ${JSON.stringify(heading)} within 30 s`);
}

function quiet() {
  const noop = () => undefined;
  return { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };
}

describe('Temporal Web UI', () => {
  it('lists the run for a date when filtered by PipelineRunDate', async () => {
    const query = encodeURIComponent(`PipelineRunDate="${RUN_DATE}"`);
    await page.goto(`${server.uiUrl}/namespaces/${server.namespace}/workflows?query=${query}`);
    const row = page.getByRole('row').filter({ hasText: workflowId });
    await row.waitFor();
    expect(await row.innerText()).toMatch(/Completed/);
    expect(await row.innerText()).toMatch(/dailyPipeline/);
    // Only the pipeline run has the attribute; its raw-data sensor child does not.
    expect(await page.getByRole('row').filter({ hasText: 'dailyPipeline' }).count()).toBe(1);
    await page.screenshot({ path: path.join(RESULTS, 'web-ui-runs-for-date.png'), fullPage: true });
  });

  it('opens the run and shows its date, trigger, final stage and status', async () => {
    await page.getByRole('link', { name: workflowId }).first().click();
    await page.getByRole('tab', { name: 'Search Attributes' }).click();
    const attributes = page.getByText('"PipelineRunDate"');
    await attributes.waitFor();
    const text = await page.locator('main').innerText();
    expect(text).toContain(`"PipelineRunDate": "${RUN_DATE}"`);
    expect(text).toContain('"PipelineStatus": "succeeded"');
    expect(text).toContain('"PipelineStage": "notify"');
    expect(text).toContain('"PipelineTrigger": "backfill"');
    expect(text).toMatch(/Completed/);
  });

  it("shows every stage's state in the run's current details", async () => {
    await page.getByRole('tab', { name: 'User Metadata' }).click();
    // The UI renders the workflow's markdown details inside a sandboxed frame.
    const table = await detailsFrameText(page, `${RUN_DATE} (backfill): succeeded`);
    // extract is off unless the run's options turn it on: skipped, never started.
    for (const stage of STAGES)
      expect(table).toMatch(new RegExp(stage === 'extract' ? 'extract\\s+skipped\\s+0' : `${stage}\\s+succeeded\\s+1`));
    // The run's summary, set by the schedule's action, is shown too.
    await detailsFrameText(page, 'Daily e-commerce pipeline (schedule daily-ecommerce-pipeline, 40 19 * * * UTC)');
    const file = path.join(RESULTS, 'web-ui-run-details.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(fs.statSync(file).size).toBeGreaterThan(10_000);
  });
});
