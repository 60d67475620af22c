/**
 * Golden-history replay: histories recorded from real runs on a Temporal server (see
 * test/histories/README.md) must replay against the current workflow code, and a deliberately
 * changed workflow must be caught as nondeterministic.
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';

const HISTORY_DIR = path.join(__dirname, '..', 'histories');
const files = fs.readdirSync(HISTORY_DIR).filter((f) => f.endsWith('.json')).sort();

function load(file: string) {
  return historyFromJSON(JSON.parse(fs.readFileSync(path.join(HISTORY_DIR, file), 'utf8')));
}

const noop = () => undefined;
const logger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };

let current: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  current = await bundleWorkflowCode({ workflowsPath: path.resolve(__dirname, '../../src/workflows/index.ts'), logger });
});

describe('replay of recorded histories', () => {
  it('has the three required recordings', () => {
    expect(files).toEqual(expect.arrayContaining(['success.json', 'failure-rerun-success.json', 'skip.json']));
  });

  it('replays every recorded history against the current workflow code', async () => {
    const histories = files.map((f) => ({ workflowId: path.basename(f, '.json'), history: load(f) }));
    const results = [];
    for await (const r of Worker.runReplayHistories({ workflowBundle: current, replayName: 'golden-replay' }, histories)) results.push(r);
    expect(results).toHaveLength(files.length);
    for (const r of results) expect(r.error, `${r.workflowId}: ${r.error?.message}`).toBeUndefined();
  });

  it('raises DeterminismViolationError for a deliberately changed workflow', async () => {
    const changed = await bundleWorkflowCode({ workflowsPath: path.resolve(__dirname, 'changed-workflow/index.ts'), logger });
    const err = await Worker.runReplayHistory({ workflowBundle: changed, replayName: 'changed-replay' }, load('success.json'), 'success').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeterminismViolationError);
  });
});
