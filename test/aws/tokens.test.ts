/**
 * What makes a retried start reattach instead of starting twice: the Athena token (moto ignores it,
 * so it is checked on the request) and the SNS FIFO deduplication id.
 */
import { AthenaClient, GetQueryExecutionCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAwsActivities } from '../../src/activities/aws';
import type { AwsClients } from '../../src/activities/aws/clients';
import type { Notice, RunRef } from '../../src/activities/types';
import { DEFAULT_QUALITY_THRESHOLDS } from '../../src/shared/quality';
import { motoAwsConfig } from '../support/moto';

const creds = { region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
const athena = new AthenaClient(creds);
const sns = new SNSClient(creds);
const athenaMock = mockClient(athena);
const snsMock = mockClient(sns);
const config = {
  ...motoAwsConfig('http://unused'),
  region: 'eu-west-1',
  athenaWorkgroup: 'pipeline-wg',
  snsTopicArn: 'arn:aws:sns:eu-west-1:123456789012:notices.fifo',
};
const acts = createAwsActivities(config, { webUiUrl: '', clients: { athena, sns } as unknown as AwsClients });
const run = (stageAttempt: number, workflowId = 'daily-2025-10-27'): RunRef => ({
  runDate: '2025-10-27',
  workflowId,
  stage: 'validate',
  stageAttempt,
});

beforeEach(() => {
  athenaMock.reset();
  snsMock.reset();
});

describe('Athena start', () => {
  it('sends the quality SQL for the run date with a token stable per stage attempt', async () => {
    athenaMock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    const start = (r: RunRef) => acts.startQuery({ run: r, query: 'quality_checks', thresholds: DEFAULT_QUALITY_THRESHOLDS });
    expect(await start(run(1))).toEqual({ queryId: 'q-1' });
    await start(run(1));
    await start(run(2));
    await start(run(1, 'daily-2025-10-28'));
    const inputs = athenaMock.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toMatchObject({
      WorkGroup: 'pipeline-wg',
      QueryExecutionContext: { Database: 'ecommerce_raw' },
      ResultConfiguration: { OutputLocation: 's3://pipeline-test-lake/lake/athena-results/' },
    });
    expect(inputs[0]!.QueryString).toContain("partition_0 = '2025-10-27'");
    const tokens = inputs.map((i) => i.ClientRequestToken!);
    for (const t of tokens) expect(t.length).toBeGreaterThanOrEqual(32);
    expect(tokens[1]).toBe(tokens[0]);
    expect(new Set(tokens).size).toBe(3);
  });

  it('gives a second run of the same date (same workflow id, new execution) its own token', async () => {
    athenaMock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    const start = (r: RunRef) => acts.startQuery({ run: r, query: 'quality_checks', thresholds: DEFAULT_QUALITY_THRESHOLDS });
    await start({ ...run(1), executionId: 'first-execution' });
    await start({ ...run(1), executionId: 'first-execution' });
    await start({ ...run(1), executionId: 'second-execution' });
    await start(run(1));
    const tokens = athenaMock.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input.ClientRequestToken!);
    expect(tokens[1]).toBe(tokens[0]);
    expect(new Set(tokens).size).toBe(3);
  });

  it("reports Athena's failure reason and whether it may be retried", async () => {
    athenaMock.on(GetQueryExecutionCommand).resolves({
      QueryExecution: {
        Status: {
          State: 'FAILED',
          StateChangeReason: 'x',
          AthenaError: { ErrorMessage: "TABLE_NOT_FOUND: Table 'ecommerce_raw.orders' does not exist", Retryable: false },
        },
        Statistics: { DataScannedInBytes: 0 },
      },
    });
    const s = await acts.getQueryState({ run: run(1), queryId: 'q-9' });
    expect(s).toMatchObject({
      state: 'FAILED',
      retryable: false,
      message: "Athena query q-9 failed: TABLE_NOT_FOUND: Table 'ecommerce_raw.orders' does not exist",
    });
  });
});

describe('SNS FIFO topic', () => {
  it('deduplicates by notice key', async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const notice: Notice = {
      key: 'w/notify/succeeded',
      kind: 'succeeded',
      runDate: '2025-10-27',
      workflowId: 'w',
      runId: 'r',
      namespace: 'default',
      subject: 'ok',
      text: 't',
      stages: [],
    };
    await acts.publishNotification(notice);
    await acts.publishNotification(notice);
    const [a, b] = snsMock.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(a!.MessageGroupId).toBe('w');
    expect(a!.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/);
    expect(b!.MessageDeduplicationId).toBe(a!.MessageDeduplicationId);
    expect(a!.MessageAttributes?.status?.StringValue).toBe('succeeded');
  });
});
