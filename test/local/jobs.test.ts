/**
 * Background jobs: a retried start reattaches, a stop cancels, and a job whose worker is gone reads
 * FAILED with retryable set instead of RUNNING forever.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JobStore } from '../../src/activities/local';
import type { JobRecord } from '../../src/activities/local';
import type { RunRef } from '../../src/activities/types';
import type { LocalConfig } from '../../src/config';
import type { LocalTestBackend } from './support';
import { copyRaw, GOLDEN, GOLDEN_DATE, localConfig, open, runRef, settle, tempDir } from './support';

describe('local jobs', () => {
  let root: string;
  let config: LocalConfig;
  let a: LocalTestBackend;
  let release: (() => void) | undefined;

  /** Holds the warehouse's write turn, so jobs started now stay RUNNING until `release()`. */
  const holdWarehouse = () => {
    const gate = new Promise<void>((resolve) => (release = resolve));
    void a.engine.exclusive({}, () => gate);
  };

  beforeAll(() => {
    root = tempDir('jobs');
    config = localConfig(root);
    copyRaw(GOLDEN, config.lakeDir);
    a = open(config);
  });

  afterEach(() => {
    release?.();
    release = undefined;
  });

  afterAll(async () => {
    await a?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const jobsDir = () => `${config.warehousePath}.jobs`;

  function plantRunningJob(run: RunRef, owner: JobRecord['owner'], heartbeatAt: string): string {
    const id = JobStore.idFor('etl', run);
    const record: JobRecord = {
      id,
      kind: 'etl',
      label: `local ETL run ${id}`,
      run,
      state: 'RUNNING',
      metrics: { progress: 0.4 },
      owner,
      createdAt: heartbeatAt,
      heartbeatAt,
    };
    fs.writeFileSync(path.join(jobsDir(), `${id}.json`), JSON.stringify(record));
    return id;
  }

  it('a retried start returns the same run and starts nothing new; a new attempt starts a new run', async () => {
    const run = runRef(GOLDEN_DATE, 'catalog', 7);
    holdWarehouse();
    const first = await a.startCrawl({ run });
    const again = await a.startCrawl({ run });
    expect(again.crawlId).toBe(first.crawlId);
    expect(first.alreadyRunning).toBe(false);
    expect(again.alreadyRunning).toBe(true);
    const files = fs.readdirSync(jobsDir()).filter((f) => f.startsWith(first.crawlId));
    expect(files).toEqual([`${first.crawlId}.json`]);
    const next = await a.startCrawl({ run: { ...run, stageAttempt: 8 } });
    expect(next.crawlId).not.toBe(first.crawlId);
    release?.();
    expect((await settle(() => a.getCrawlState({ run, crawlId: first.crawlId }))).state).toBe('SUCCEEDED');

    const etl = runRef(GOLDEN_DATE, 'transform', 3);
    const e1 = await a.startEtlRun({ run: etl });
    const e2 = await a.startEtlRun({ run: etl });
    expect(e2.etlRunId).toBe(e1.etlRunId);
    const done = await settle(() => a.getEtlRunState({ run: etl, etlRunId: e1.etlRunId }));
    expect(done.state).toBe('SUCCEEDED');
    expect(done.metrics?.progress).toBe(1);
    // After success a retried start still reattaches instead of transforming again.
    expect((await a.startEtlRun({ run: etl })).etlRunId).toBe(e1.etlRunId);
    expect((await a.getEtlRunState({ run: etl, etlRunId: e1.etlRunId })).state).toBe('SUCCEEDED');
    // A later run of the same date reuses the workflow id but is a new execution: it starts its own job.
    const rerunOfDate = await a.startEtlRun({ run: { ...etl, executionId: 'second-execution' } });
    expect(rerunOfDate.etlRunId).not.toBe(e1.etlRunId);
    expect(
      (await settle(() => a.getEtlRunState({ run: { ...etl, executionId: 'second-execution' }, etlRunId: rerunOfDate.etlRunId }))).state,
    ).toBe('SUCCEEDED');
  });

  it('stopping a run that has not reached its statements cancels it', async () => {
    const run = runRef(GOLDEN_DATE, 'transform', 20);
    holdWarehouse();
    const { etlRunId } = await a.startEtlRun({ run });
    expect((await a.getEtlRunState({ run, etlRunId })).state).toBe('RUNNING');
    await a.stopEtlRun({ run, etlRunId });
    release?.();
    const st = await settle(() => a.getEtlRunState({ run, etlRunId }));
    expect(st.state).toBe('CANCELLED');
    expect(st.message).toContain('stopped on request');
  });

  it('a job whose worker process died reads FAILED, retryable, and stays so', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const run = runRef(GOLDEN_DATE, 'transform', 31);
    const etlRunId = plantRunningJob(run, { pid: dead, host: os.hostname(), instance: 'gone' }, new Date().toISOString());
    const st = await a.getEtlRunState({ run, etlRunId });
    expect(st).toMatchObject({ state: 'FAILED', retryable: true });
    expect(st.message).toContain(`worker process ${dead} is no longer running`);
    const stored = JSON.parse(fs.readFileSync(path.join(jobsDir(), `${etlRunId}.json`), 'utf8')) as JobRecord;
    expect(stored.state).toBe('FAILED');
  });

  it('a job owned by a closed worker of this process reads FAILED, retryable', async () => {
    const run = runRef(GOLDEN_DATE, 'transform', 32);
    const etlRunId = plantRunningJob(run, { pid: process.pid, host: os.hostname(), instance: 'closed-instance' }, new Date().toISOString());
    expect(await a.getEtlRunState({ run, etlRunId })).toMatchObject({ state: 'FAILED', retryable: true });
  });

  it('a job elsewhere reads RUNNING while it heartbeats and FAILED, retryable, once its heartbeat is stale', async () => {
    const run = runRef(GOLDEN_DATE, 'transform', 33);
    const owner = { pid: 1, host: 'another-host', instance: 'remote' };
    const fresh = plantRunningJob(run, owner, new Date().toISOString());
    expect((await a.getEtlRunState({ run, etlRunId: fresh })).state).toBe('RUNNING');
    const stale = plantRunningJob(run, owner, new Date(Date.now() - 10 * 60_000).toISOString());
    const st = await a.getEtlRunState({ run, etlRunId: stale });
    expect(st).toMatchObject({ state: 'FAILED', retryable: true });
    expect(st.message).toContain('stopped heartbeating');
  });

  it('deletes the files of jobs finished long ago, never a running one', () => {
    const dir = tempDir('jobs-prune');
    const write = (id: string, state: JobRecord['state'], ageDays: number) => {
      const file = path.join(dir, `${id}.json`);
      fs.writeFileSync(file, JSON.stringify({ id, state }));
      const when = new Date(Date.now() - ageDays * 24 * 3600_000);
      fs.utimesSync(file, when, when);
    };
    write('etl-2025-01-01-old', 'SUCCEEDED', 40);
    write('etl-2025-01-02-oldfail', 'FAILED', 40);
    write('etl-2025-01-03-oldrun', 'RUNNING', 40);
    write('etl-2025-02-01-recent', 'SUCCEEDED', 5);
    const store = new JobStore({ dir, staleAfterMs: 60_000, heartbeatMs: 2_000, interrupt: () => undefined });
    store.close();
    expect(fs.readdirSync(dir).sort()).toEqual(['etl-2025-01-03-oldrun.json', 'etl-2025-02-01-recent.json']);
  });

  it('an unknown id is a clear, non-retryable error', async () => {
    const run = runRef(GOLDEN_DATE, 'transform', 40);
    const err = await a.getEtlRunState({ run, etlRunId: 'etl-2025-10-27-000000000000' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('MissingResource');
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
  });

  it('a warehouse statement has a result set when it is a verify, as recorded with its job, whatever its state', async () => {
    const load = runRef(GOLDEN_DATE, 'load', 50);
    const verify = runRef(GOLDEN_DATE, 'verify', 50);
    holdWarehouse();
    const l = await a.startWarehouseStatements({ run: load, operation: 'load', etlRunId: 'etl-x' });
    const v = await a.startWarehouseStatements({ run: verify, operation: 'verify', etlRunId: 'etl-x' });
    const stored = (id: string) => JSON.parse(fs.readFileSync(path.join(jobsDir(), `${id}.json`), 'utf8')) as JobRecord;
    expect(stored(l.statementId)).toMatchObject({ kind: 'statement', operation: 'load' });
    expect(stored(v.statementId)).toMatchObject({ kind: 'statement', operation: 'verify' });
    expect(await a.getStatementState({ run: load, statementId: l.statementId })).toMatchObject({ state: 'RUNNING', hasResultSet: false });
    expect(await a.getStatementState({ run: verify, statementId: v.statementId })).toMatchObject({ state: 'RUNNING', hasResultSet: true });
    release?.();
    expect((await settle(() => a.getStatementState({ run: load, statementId: l.statementId }))).hasResultSet).toBe(false);
    expect((await settle(() => a.getStatementState({ run: verify, statementId: v.statementId }))).hasResultSet).toBe(true);
  });

  it('a load of a date that was never transformed fails with a clear message', async () => {
    const run = runRef('2025-01-01', 'load', 1);
    const { statementId } = await a.startWarehouseStatements({ run, operation: 'load', etlRunId: 'etl-x' });
    const st = await settle(() => a.getStatementState({ run, statementId }));
    expect(st.state).toBe('FAILED');
    expect(st.retryable).toBeUndefined();
    expect(st.message).toContain('no transformed batch for 2025-01-01');
  });
});
