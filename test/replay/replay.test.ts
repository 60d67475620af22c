/**
 * Golden-history replay: histories recorded from real runs on a Temporal server (see
 * test/histories/README.md) must replay against the current workflow code, and a deliberately
 * changed workflow must be caught as nondeterministic.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { nondeterminismReason } from '../../src/client/replay';

const HISTORY_DIR = path.join(__dirname, '..', 'histories');
const files = fs
  .readdirSync(HISTORY_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

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
    const err = await Worker.runReplayHistory(
      { workflowBundle: changed, replayName: 'changed-replay' },
      load('success.json'),
      'success',
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeterminismViolationError);
    // What `pipeline replay` prints of it: Core's reason, without the SDK's debug dump around it.
    const reason = nondeterminismReason((err as Error).message);
    expect(reason).toMatch(/^Nondeterminism error: .* does not handle this event: HistoryEvent\(id: \d+, \w+\)$/);
  });
});

describe('pipeline replay --file', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [path.resolve(__dirname, '../../bin/pipeline'), 'replay', ...args], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });

  it('replays an exported history without a server, and says what is wrong with a file that is not one', () => {
    const ok = cli('--file', path.join(HISTORY_DIR, 'skip.json'));
    expect(ok.stderr).not.toMatch(/asset|WARN/);
    expect(ok.stdout.trim()).toMatch(/^replayed \d+ events of skip \(.*skip\.json\): the current code is compatible with this history$/);
    expect(ok.status).toBe(0);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'replay-file-'));
    const bad = path.join(dir, 'not-a-history.json');
    fs.writeFileSync(bad, '{"events": []}');
    const refused = cli('--file', bad);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`replay: ${bad} is not a workflow history in JSON`);
    fs.rmSync(dir, { recursive: true, force: true });

    const nothing = cli();
    expect(nothing.status).toBe(1);
    expect(nothing.stderr).toContain('give a workflow id, or --file <history.json>');
  }, 60_000);
});
