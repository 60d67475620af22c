/**
 * Glue replies moto cannot produce (a failed job run with its message, a failed crawl, stop errors),
 * and the error classification, as narrow unit tests.
 */
import {
  BatchStopJobRunCommand,
  GetCrawlerCommand,
  GetJobRunCommand,
  GetJobRunsCommand,
  GlueClient,
  StartJobRunCommand,
} from '@aws-sdk/client-glue';
import { ApplicationFailure } from '@temporalio/common';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAwsActivities } from '../../src/activities/aws';
import { classifyAwsError } from '../../src/activities/aws/aws-errors';
import type { AwsClients } from '../../src/activities/aws/clients';
import { dpuSeconds } from '../../src/activities/aws/transform';
import { MODEL_VERSION, rulesFileName } from '../../src/rules/artifact';
import type { RunRef } from '../../src/activities/types';
import { motoAwsConfig } from '../support/moto';

const run: RunRef = { runDate: '2025-10-27', workflowId: 'daily-2025-10-27', stage: 'transform', stageAttempt: 1 };
const glue = new GlueClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const mock = mockClient(glue);
const config = { ...motoAwsConfig('http://unused'), region: 'eu-west-1' };
const acts = createAwsActivities(config, { webUiUrl: '', clients: { glue } as unknown as AwsClients });

const sdkError = (name: string, message: string, status?: number) =>
  Object.assign(new Error(message), { name, $fault: status && status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });

beforeEach(() => mock.reset());

describe('Glue job run states', () => {
  it("reports a failed run with Glue's message, its logs and a console link", async () => {
    mock.on(GetJobRunCommand).resolves({
      JobRun: {
        Id: 'jr_1',
        JobRunState: 'FAILED',
        ErrorMessage: 'AnalysisException: Path does not exist: s3://b/raw',
        ExecutionTime: 60,
        MaxCapacity: 2,
        LogGroupName: '/aws-glue/jobs',
      },
    });
    const s = await acts.getEtlRunState({ run, etlRunId: 'jr_1' });
    expect(s.state).toBe('FAILED');
    expect(s.message).toBe(
      'Glue job ecommerce-etl-job run jr_1 ended FAILED: AnalysisException: Path does not exist: s3://b/raw (logs: /aws-glue/jobs/jr_1)',
    );
    expect(s.metrics).toEqual({ dpuSeconds: 120, durationMs: 60_000 });
    expect(s.consoleUrl).toBe('https://eu-west-1.console.aws.amazon.com/gluestudio/home?region=eu-west-1#/job/ecommerce-etl-job/run/jr_1');
  });

  it("adds the last lines of the run's error log when the worker can read them", async () => {
    mock.on(GetJobRunCommand).resolves({
      JobRun: {
        Id: 'jr_2',
        JobRunState: 'FAILED',
        ErrorMessage: 'An error occurred while calling o91.parquet',
        LogGroupName: '/aws-glue/jobs',
      },
    });
    const logs = new CloudWatchLogsClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const logsMock = mockClient(logs);
    logsMock.on(GetLogEventsCommand, { logGroupName: '/aws-glue/jobs/error', logStreamName: 'jr_2' }).resolves({
      events: [{ message: 'Traceback (most recent call last):\n' }, { message: '' }, { message: 'OSError: disk full' }],
    });
    const withLogs = createAwsActivities(config, { webUiUrl: '', clients: { glue, logs } as unknown as AwsClients });
    const s = await withLogs.getEtlRunState({ run, etlRunId: 'jr_2' });
    expect(s.message).toBe(
      'Glue job ecommerce-etl-job run jr_2 ended FAILED: An error occurred while calling o91.parquet\n' +
        'last 2 line(s) of /aws-glue/jobs/error/jr_2:\n  Traceback (most recent call last):\n  OSError: disk full',
    );
    logsMock.restore();
  });

  it('maps TIMEOUT to FAILED and STOPPED to CANCELLED, and keeps waiting through WAITING', async () => {
    mock
      .on(GetJobRunCommand)
      .resolvesOnce({ JobRun: { JobRunState: 'TIMEOUT', ErrorMessage: 'Job run timed out' } })
      .resolvesOnce({ JobRun: { JobRunState: 'STOPPED' } })
      .resolvesOnce({ JobRun: { JobRunState: 'WAITING' } });
    expect((await acts.getEtlRunState({ run, etlRunId: 'a' })).state).toBe('FAILED');
    expect((await acts.getEtlRunState({ run, etlRunId: 'b' })).state).toBe('CANCELLED');
    expect((await acts.getEtlRunState({ run, etlRunId: 'c' })).state).toBe('RUNNING');
  });

  it('counts DPU-seconds from what the run reports', () => {
    expect(dpuSeconds({ DPUSeconds: 77, ExecutionTime: 100, MaxCapacity: 10 })).toBe(77);
    expect(dpuSeconds({ ExecutionTime: 100, MaxCapacity: 2 })).toBe(200);
    expect(dpuSeconds({ ExecutionTime: 100, NumberOfWorkers: 3, WorkerType: 'G.2X' })).toBe(600);
    expect(dpuSeconds({ ExecutionTime: 0 })).toBeUndefined();
  });

  it('stops a run, and a run that already ended is nothing to stop', async () => {
    mock
      .on(BatchStopJobRunCommand)
      .resolvesOnce({ SuccessfulSubmissions: [{ JobRunId: 'jr_1' }] })
      .resolvesOnce({
        Errors: [
          {
            JobRunId: 'jr_2',
            ErrorDetail: { ErrorCode: 'InvalidInputException', ErrorMessage: 'Job Run cannot be stopped in current state: SUCCEEDED' },
          },
        ],
      })
      .resolvesOnce({ Errors: [{ JobRunId: 'jr_3', ErrorDetail: { ErrorCode: 'InternalServiceException', ErrorMessage: 'try later' } }] });
    await acts.stopEtlRun({ run, etlRunId: 'jr_1' });
    await acts.stopEtlRun({ run, etlRunId: 'jr_2' });
    await expect(acts.stopEtlRun({ run, etlRunId: 'jr_3' })).rejects.toThrow(/jr_3 failed: InternalServiceException try later/);
    expect(mock.commandCalls(BatchStopJobRunCommand)[0]!.args[0].input).toEqual({ JobName: 'ecommerce-etl-job', JobRunIds: ['jr_1'] });
  });
});

describe('Glue job run start', () => {
  it("passes the rules file beside the job script and this worker's rules model", async () => {
    mock.on(GetJobRunsCommand).resolves({ JobRuns: [] });
    mock.on(StartJobRunCommand).resolves({ JobRunId: 'jr_rules' });
    expect(await acts.startEtlRun({ run })).toEqual({ etlRunId: 'jr_rules' });
    const args = mock.commandCalls(StartJobRunCommand)[0]!.args[0].input.Arguments;
    expect(args).toMatchObject({
      '--run_date': '2025-10-27',
      '--rules': `s3://pipeline-test-lake/lake/scripts/${rulesFileName()}`,
      '--rules_model': MODEL_VERSION,
    });
    expect(rulesFileName()).toBe(`rules-${MODEL_VERSION}.spark.json`);
  });

  it('at the concurrent-runs limit starts nothing and says so, so the workflow waits; other errors are classified', async () => {
    mock.on(GetJobRunsCommand).resolves({ JobRuns: [] });
    mock
      .on(StartJobRunCommand)
      .rejectsOnce(sdkError('ConcurrentRunsExceededException', 'Concurrent runs exceeded for ecommerce-etl-job', 400))
      .resolvesOnce({ JobRunId: 'jr_9' })
      .rejectsOnce(sdkError('EntityNotFoundException', 'Job ecommerce-etl-job not found', 400));
    const busy = await acts.startEtlRun({ run });
    expect(busy.etlRunId).toBe('');
    expect(busy.busy).toMatch(
      /Glue job ecommerce-etl-job is at its concurrent-runs limit \(Concurrent runs exceeded for ecommerce-etl-job\)/,
    );
    expect(await acts.startEtlRun({ run })).toEqual({ etlRunId: 'jr_9' });
    const missing = await acts.startEtlRun({ run: { ...run, stageAttempt: 2 } }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApplicationFailure);
    expect((missing as ApplicationFailure).nonRetryable).toBe(true);
    expect((missing as Error).message).toMatch(/StartJobRun on Glue job ecommerce-etl-job failed: EntityNotFoundException/);
  });
});

describe('Glue crawl states', () => {
  it("reports a failed crawl with the crawler's message and log stream", async () => {
    mock.on(GetCrawlerCommand).resolves({
      Crawler: {
        Name: 'c',
        State: 'READY',
        LastCrawl: {
          Status: 'FAILED',
          ErrorMessage: 'Insufficient Lake Formation permission(s)',
          LogGroup: '/aws-glue/crawlers',
          LogStream: 'c',
        },
      },
    });
    const s = await acts.getCrawlState({ run: { ...run, stage: 'catalog' }, crawlId: 'c' });
    expect(s).toMatchObject({
      state: 'FAILED',
      message: 'Glue crawler c: Insufficient Lake Formation permission(s) (logs: /aws-glue/crawlers/c)',
    });
  });

  it('waits while the crawler is stopping', async () => {
    mock.on(GetCrawlerCommand).resolves({ Crawler: { Name: 'c', State: 'STOPPING', LastCrawl: { Status: 'SUCCEEDED' } } });
    expect((await acts.getCrawlState({ run: { ...run, stage: 'catalog' }, crawlId: 'c' })).state).toBe('RUNNING');
  });
});

describe('classifyAwsError', () => {
  const classify = (err: unknown) => classifyAwsError(err, 'Glue job j', 'StartJobRun');
  const typeOf = (f: Error) => (f instanceof ApplicationFailure ? f.type : 'retryable');

  it.each([
    [sdkError('AccessDeniedException', 'User is not authorized to perform glue:StartJobRun', 400), 'AccessDenied'],
    [sdkError('AccessDenied', 'Access Denied', 403), 'AccessDenied'],
    [sdkError('EntityNotFoundException', 'Job j not found', 400), 'MissingResource'],
    [sdkError('NoSuchBucket', 'The specified bucket does not exist', 404), 'MissingResource'],
    [sdkError('InvalidInputException', 'Argument --run_date is invalid', 400), 'BadConfig'],
    [sdkError('ThrottlingException', 'Rate exceeded', 400), 'retryable'],
    [sdkError('ConcurrentRunsExceededException', 'Concurrent runs exceeded for j', 400), 'retryable'],
    [sdkError('InternalServiceException', 'oops', 500), 'retryable'],
    [sdkError('SomethingNew', 'bad gateway', 502), 'retryable'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'retryable'],
  ])('%s -> %s', (err, expected) => {
    const f = classify(err);
    expect(typeOf(f)).toBe(expected);
    expect(f.message).toContain('StartJobRun on Glue job j failed');
    if (expected !== 'retryable') expect((f as ApplicationFailure).nonRetryable).toBe(true);
  });
});
