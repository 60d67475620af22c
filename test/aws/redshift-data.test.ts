/**
 * Redshift Data activities as narrow unit tests (moto's Data API does not serve the JS SDK):
 * what is sent (SQL rendered from sql/redshift, target, idempotency token) and how replies are read.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { ApplicationFailure } from '@temporalio/common';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsActivities } from '../../src/activities/aws';
import type { AwsClients } from '../../src/activities/aws/clients';
import type { RunRef } from '../../src/activities/types';
import type { AwsConfig } from '../../src/config';
import { pageToRecords, toVerifyRows } from '../../src/shared/results';
import { motoAwsConfig } from '../support/moto';

const run = (stage: RunRef['stage'], stageAttempt = 1, runDate = '2025-10-27'): RunRef => ({
  runDate,
  workflowId: 'daily-2025-10-27',
  stage,
  stageAttempt,
});

const client = new RedshiftDataClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const mock = mockClient(client);
const sqlDir = mkdtempSync(path.join(tmpdir(), 'redshift-sql-'));
writeFileSync(
  path.join(sqlDir, 'load.sql'),
  "-- test load\nDELETE FROM {{schema}}.stg WHERE batch_date = '{{run_date}}';\nCOPY {{schema}}.stg FROM '{{processed_uri}}/gold/x/batch_date={{run_date}}/' IAM_ROLE '{{copy_role_arn}}' FORMAT AS PARQUET;\n",
);
writeFileSync(
  path.join(sqlDir, 'verify.sql'),
  "SELECT 'orders' AS entity, 1 AS warehouse_rows FROM {{schema}}.fact_orders WHERE batch_date = '{{run_date}}';\n",
);

function activities(config: AwsConfig, dir = sqlDir) {
  return createAwsActivities(config, { webUiUrl: '', sqlDir: dir, clients: { redshiftData: client } as unknown as AwsClients });
}

const serverless = { ...motoAwsConfig('http://unused'), region: 'eu-west-1' };
const provisioned: AwsConfig = {
  ...serverless,
  redshift: { clusterId: 'dw-1', database: 'dev', dbUser: 'etl', schema: 'analytics', copyRoleArn: 'arn:aws:iam::123456789012:role/copy' },
};

afterAll(() => rmSync(sqlDir, { recursive: true, force: true }));
beforeEach(() => mock.reset());

describe('startWarehouseStatements', () => {
  it('runs load.sql as one batch (one transaction) with placeholders filled and a stable token', async () => {
    mock.on(BatchExecuteStatementCommand).resolves({ Id: 'stmt-load' });
    const a = activities(serverless);
    const h = await a.startWarehouseStatements({ run: run('load'), operation: 'load' });
    expect(h).toEqual({ statementId: 'stmt-load' });
    const sent = mock.commandCalls(BatchExecuteStatementCommand)[0]!.args[0].input;
    expect(sent.WorkgroupName).toBe('pipeline');
    expect(sent.ClusterIdentifier).toBeUndefined();
    expect(sent.Database).toBe('dev');
    expect(sent.Sqls).toEqual([
      "DELETE FROM analytics.stg WHERE batch_date = '2025-10-27'",
      "COPY analytics.stg FROM 's3://pipeline-test-lake/lake/processed/gold/x/batch_date=2025-10-27/' IAM_ROLE 'arn:aws:iam::123456789012:role/pipeline-copy' FORMAT AS PARQUET",
    ]);
    expect(sent.ClientToken).toMatch(/^[0-9a-f]{64}$/);

    // A retry of the same attempt carries the same token (the Data API returns the same statement);
    // an operator's rerun is a new attempt and new work.
    await a.startWarehouseStatements({ run: run('load'), operation: 'load' });
    await a.startWarehouseStatements({ run: run('load', 2), operation: 'load' });
    const tokens = mock.commandCalls(BatchExecuteStatementCommand).map((c) => c.args[0].input.ClientToken);
    expect(tokens[1]).toBe(tokens[0]);
    expect(tokens[2]).not.toBe(tokens[0]);
  });

  it('runs a single verify statement on a provisioned cluster as a database user', async () => {
    mock.on(ExecuteStatementCommand).resolves({ Id: 'stmt-verify' });
    await activities(provisioned).startWarehouseStatements({ run: run('verify'), operation: 'verify' });
    const sent = mock.commandCalls(ExecuteStatementCommand)[0]!.args[0].input;
    expect(sent).toMatchObject({ ClusterIdentifier: 'dw-1', DbUser: 'etl', Database: 'dev' });
    expect(sent.Sql).toBe("SELECT 'orders' AS entity, 1 AS warehouse_rows FROM analytics.fact_orders WHERE batch_date = '2025-10-27'");
  });

  it('authenticates with a Secrets Manager secret when one is set: SecretArn, never DbUser', async () => {
    mock.on(ExecuteStatementCommand).resolves({ Id: 'stmt-verify' });
    mock.on(BatchExecuteStatementCommand).resolves({ Id: 'stmt-load' });
    const secret = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift-etl-AbCdEf';

    const clusterWithSecret: AwsConfig = { ...provisioned, redshift: { ...provisioned.redshift, dbUser: undefined, secretArn: secret } };
    await activities(clusterWithSecret).startWarehouseStatements({ run: run('verify'), operation: 'verify' });
    const single = mock.commandCalls(ExecuteStatementCommand)[0]!.args[0].input;
    expect(single).toMatchObject({ ClusterIdentifier: 'dw-1', SecretArn: secret, Database: 'dev' });
    expect(single.DbUser).toBeUndefined();
    expect(single.WorkgroupName).toBeUndefined();

    const serverlessWithSecret: AwsConfig = { ...serverless, redshift: { ...serverless.redshift, secretArn: secret } };
    await activities(serverlessWithSecret).startWarehouseStatements({ run: run('load'), operation: 'load' });
    const batch = mock.commandCalls(BatchExecuteStatementCommand)[0]!.args[0].input;
    expect(batch).toMatchObject({ WorkgroupName: 'pipeline', SecretArn: secret, Database: 'dev' });
    expect(batch.DbUser).toBeUndefined();
    expect(batch.ClusterIdentifier).toBeUndefined();
  });

  it('connects as the IAM identity when neither a secret nor a database user is set', async () => {
    mock.on(ExecuteStatementCommand).resolves({ Id: 'stmt-verify' });
    const iamOnly: AwsConfig = { ...provisioned, redshift: { ...provisioned.redshift, dbUser: undefined } };
    await activities(iamOnly).startWarehouseStatements({ run: run('verify'), operation: 'verify' });
    await activities(serverless).startWarehouseStatements({ run: run('verify'), operation: 'verify' });
    const [cluster, workgroup] = mock.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input);
    expect(cluster).toMatchObject({ ClusterIdentifier: 'dw-1', Database: 'dev' });
    expect(workgroup).toMatchObject({ WorkgroupName: 'pipeline', Database: 'dev' });
    for (const sent of [cluster!, workgroup!]) {
      expect(sent.DbUser).toBeUndefined();
      expect(sent.SecretArn).toBeUndefined();
    }
  });

  it('renders the project SQL files (sql/redshift) without leftover placeholders', async () => {
    mock.on(BatchExecuteStatementCommand).resolves({ Id: 's' });
    mock.on(ExecuteStatementCommand).resolves({ Id: 's' });
    const a = createAwsActivities(serverless, { webUiUrl: '', clients: { redshiftData: client } as unknown as AwsClients });
    await a.startWarehouseStatements({ run: run('load'), operation: 'load' });
    await a.startWarehouseStatements({ run: run('verify'), operation: 'verify' });
    const sqls = [
      ...(mock.commandCalls(BatchExecuteStatementCommand)[0]?.args[0].input.Sqls ?? []),
      ...mock.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input.Sql ?? ''),
      ...mock
        .commandCalls(BatchExecuteStatementCommand)
        .slice(1)
        .flatMap((c) => c.args[0].input.Sqls ?? []),
    ];
    expect(sqls.length).toBeGreaterThan(1);
    for (const s of sqls) {
      expect(s).not.toMatch(/\{\{|\}\}/);
      expect(s).not.toMatch(/;\s*$/);
    }
    expect(sqls.join('\n')).toContain("'2025-10-27'");
  });

  it('refuses to run without the COPY role, naming the setting', async () => {
    const noRole = { ...serverless, redshift: { ...serverless.redshift, copyRoleArn: undefined } };
    const err = await activities(noRole)
      .startWarehouseStatements({ run: run('load'), operation: 'load' })
      .catch((e: unknown) => e as ApplicationFailure);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('BadConfig');
    expect((err as ApplicationFailure).message).toContain('PIPELINE_REDSHIFT_COPY_ROLE_ARN');
    expect(mock.calls()).toHaveLength(0);
  });

  it('never puts a non-ISO run date into SQL', async () => {
    const err = await activities(serverless)
      .startWarehouseStatements({ run: run('load', 1, "2025-10-27'; DROP TABLE analytics.fact_orders; --"), operation: 'load' })
      .catch((e: unknown) => e as ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('BadConfig');
    expect(mock.calls()).toHaveLength(0);
  });
});

describe('getStatementState / results / cancel', () => {
  it('sums rows affected over the batch and reports duration', async () => {
    mock.on(DescribeStatementCommand).resolves({
      Id: 'stmt-load',
      Status: 'FINISHED',
      Duration: 2_500_000_000,
      SubStatements: [
        { Id: 'stmt-load:1', Status: 'FINISHED', ResultRows: 3 },
        { Id: 'stmt-load:2', Status: 'FINISHED', ResultRows: 40 },
        { Id: 'stmt-load:3', Status: 'FINISHED', ResultRows: -1 },
      ],
    });
    const s = await activities(serverless).getStatementState({ run: run('load'), statementId: 'stmt-load' });
    expect(s).toMatchObject({ state: 'SUCCEEDED', rowsAffected: 43, metrics: { rowsAffected: 43, durationMs: 2500 } });
    expect(s.consoleUrl).toContain('eu-west-1.console.aws.amazon.com/redshiftv2');
  });

  it('reports the failing statement and the error', async () => {
    mock.on(DescribeStatementCommand).resolves({
      Id: 'stmt-load',
      Status: 'FAILED',
      Error: 'ERROR: Load into table stg_orders failed. Check stl_load_errors',
      SubStatements: [
        { Id: 'stmt-load:1', Status: 'FINISHED' },
        { Id: 'stmt-load:2', Status: 'FAILED', QueryString: "COPY analytics.stg_orders FROM 's3://b/processed/gold/fact_orders/'" },
      ],
    });
    const s = await activities(provisioned).getStatementState({ run: run('load'), statementId: 'stmt-load' });
    expect(s.state).toBe('FAILED');
    expect(s.message).toContain('stl_load_errors');
    expect(s.message).toContain('stmt-load:2: COPY analytics.stg_orders');
    expect(s.consoleUrl).toContain('cluster=dw-1');
  });

  it('maps running and aborted statements', async () => {
    mock.on(DescribeStatementCommand).resolvesOnce({ Status: 'PICKED' }).resolvesOnce({ Status: 'ABORTED' });
    const a = activities(serverless);
    expect((await a.getStatementState({ run: run('load'), statementId: 'x' })).state).toBe('RUNNING');
    expect((await a.getStatementState({ run: run('load'), statementId: 'x' })).state).toBe('CANCELLED');
  });

  it('types result values by column and pages with the token', async () => {
    mock.on(GetStatementResultCommand).resolves({
      ColumnMetadata: [
        { name: 'entity', typeName: 'varchar' },
        { name: 'warehouse_rows', typeName: 'int8' },
        { name: 'superseded_rows', typeName: 'int8' },
        { name: 'revenue', typeName: 'numeric' },
      ],
      Records: [
        [{ stringValue: 'customers' }, { longValue: 5 }, { longValue: 0 }, { isNull: true }],
        [{ stringValue: 'orders' }, { longValue: 7 }, { longValue: 1 }, { stringValue: '123.45' }],
      ],
      NextToken: 'more',
    });
    const page = await activities(serverless).getStatementResult({ run: run('verify'), statementId: 'stmt-verify' });
    expect(page.rows).toEqual([
      ['customers', 5, 0, null],
      ['orders', 7, 1, 123.45],
    ]);
    expect(page.nextToken).toBe('more');
    expect(toVerifyRows(pageToRecords(page))[1]).toEqual({ entity: 'orders', warehouse_rows: 7, superseded_rows: 1, revenue: 123.45 });
  });

  it('cancels, and treats a statement that already ended as nothing to cancel', async () => {
    mock
      .on(CancelStatementCommand)
      .resolvesOnce({ Status: true })
      .rejectsOnce(Object.assign(new Error('Could not cancel a query that is already in FINISHED state'), { name: 'ValidationException' }));
    const a = activities(serverless);
    await a.cancelStatement({ run: run('load'), statementId: 'a' });
    await a.cancelStatement({ run: run('load'), statementId: 'b' });
    expect(mock.commandCalls(CancelStatementCommand)).toHaveLength(2);
  });

  it('classifies a missing statement as a missing resource and throttling as retryable', async () => {
    mock
      .on(DescribeStatementCommand)
      .rejectsOnce(
        Object.assign(new Error('Query does not exist'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } }),
      )
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    const a = activities(serverless);
    const missing = await a.getStatementState({ run: run('load'), statementId: 'gone' }).catch((e: unknown) => e as Error);
    expect((missing as ApplicationFailure).type).toBe('MissingResource');
    expect(missing.message).toContain('Redshift statement gone');
    const throttled = await a.getStatementState({ run: run('load'), statementId: 'busy' }).catch((e: unknown) => e as Error);
    expect(throttled).not.toBeInstanceOf(ApplicationFailure);
    expect(throttled.message).toContain('ThrottlingException');
  });
});
