/** The load and verify stages on AWS (Redshift Data API): one transaction of load statements, the verify query, their state and results. */
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
} from '@aws-sdk/client-redshift-data';
import type { Field, RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import type { AwsConfig } from '../../config';
import type { Cell, ResultPage, RunRef, StatementHandle, StatementStatus, WarehouseOperation } from '../types';
import { awsCall, awsErrorName } from './aws-errors';
import { consoleLinks } from './console-links';
import { lakePaths } from './lake-paths';
import { loadStatements } from './sql-templates';
import { idempotencyToken } from './tokens';

export function warehouseTarget(config: AwsConfig): { label: string; params: Record<string, string> } {
  const r = config.redshift;
  const params: Record<string, string> = { Database: r.database };
  if (r.workgroup) params.WorkgroupName = r.workgroup;
  if (r.clusterId) params.ClusterIdentifier = r.clusterId;
  if (r.secretArn) params.SecretArn = r.secretArn;
  else if (r.dbUser) params.DbUser = r.dbUser;
  const label = r.workgroup ? `Redshift Serverless workgroup ${r.workgroup}` : `Redshift cluster ${r.clusterId}`;
  return { label, params };
}

export function statementsFor(config: AwsConfig, operation: WarehouseOperation | 'ddl', runDate?: string, sqlDir?: string): string[] {
  const file = operation === 'ddl' ? 'ddl.sql' : operation === 'load' ? 'load.sql' : 'verify.sql';
  return loadStatements(
    file,
    {
      run_date: runDate,
      schema: config.redshift.schema,
      processed_uri: lakePaths(config).processedUri,
      copy_role_arn: config.redshift.copyRoleArn,
    },
    sqlDir,
  );
}

/** One statement runs alone; several run as one BatchExecuteStatement, which is one transaction. */
export async function executeStatements(
  client: RedshiftDataClient,
  config: AwsConfig,
  sqls: string[],
  name: string,
  clientToken?: string,
): Promise<StatementHandle> {
  const target = warehouseTarget(config);
  const common = { ...target.params, StatementName: name, ...(clientToken ? { ClientToken: clientToken } : {}) };
  const out =
    sqls.length === 1
      ? await awsCall(target.label, 'ExecuteStatement', () => client.send(new ExecuteStatementCommand({ ...common, Sql: sqls[0] })))
      : await awsCall(target.label, 'BatchExecuteStatement', () =>
          client.send(new BatchExecuteStatementCommand({ ...common, Sqls: sqls })),
        );
  if (!out.Id) throw new Error(`${target.label}: the Data API returned no statement id`);
  return { statementId: out.Id };
}

export async function startWarehouseStatements(
  client: RedshiftDataClient,
  config: AwsConfig,
  run: RunRef,
  operation: WarehouseOperation,
  sqlDir?: string,
): Promise<StatementHandle> {
  const sqls = statementsFor(config, operation, run.runDate, sqlDir);
  // The Data API returns the statement it already started for a ClientToken it has seen.
  return executeStatements(client, config, sqls, `pipeline-${operation}-${run.runDate}`, idempotencyToken(run, `redshift:${operation}`));
}

export async function getStatementState(client: RedshiftDataClient, config: AwsConfig, statementId: string): Promise<StatementStatus> {
  const d = await awsCall(`Redshift statement ${statementId}`, 'DescribeStatement', () =>
    client.send(new DescribeStatementCommand({ Id: statementId })),
  );
  const consoleUrl = consoleLinks.redshiftQuery(config.region, config.redshift);
  const subs = d.SubStatements ?? [];
  const counted = subs.length > 0 ? subs.map((s) => s.ResultRows ?? -1) : [d.ResultRows ?? -1];
  const rowsAffected = counted.filter((n) => n >= 0).reduce((a, b) => a + b, 0);
  const metrics: Record<string, number> = { rowsAffected };
  if (d.Duration !== undefined && d.Duration >= 0) metrics.durationMs = Math.round(d.Duration / 1e6); // nanoseconds
  const hasResultSet = d.HasResultSet ?? subs.some((s) => s.HasResultSet);
  switch (d.Status) {
    case 'FINISHED':
      return { state: 'SUCCEEDED', rowsAffected, hasResultSet, metrics, consoleUrl };
    case 'FAILED': {
      const failed = subs.find((s) => s.Status === 'FAILED');
      const where = failed ? ` (statement ${failed.Id}: ${(failed.QueryString ?? '').replace(/\s+/g, ' ').slice(0, 160)})` : '';
      return {
        state: 'FAILED',
        message: `Redshift statement ${statementId} failed: ${d.Error ?? failed?.Error ?? 'no error message'}${where}`,
        metrics,
        consoleUrl,
      };
    }
    case 'ABORTED':
      return { state: 'CANCELLED', message: `Redshift statement ${statementId} was aborted`, metrics, consoleUrl };
    default: // SUBMITTED, PICKED, STARTED
      return { state: 'RUNNING', metrics, consoleUrl };
  }
}

const NUMERIC = /^(int2|int4|int8|smallint|integer|bigint|float4|float8|real|double|numeric|decimal)/i;

function fieldCell(f: Field | undefined, type: string): Cell {
  if (!f || f.isNull) return null;
  if (f.booleanValue !== undefined) return f.booleanValue;
  if (f.longValue !== undefined) return f.longValue;
  if (f.doubleValue !== undefined) return f.doubleValue;
  if (f.stringValue !== undefined) {
    // NUMERIC comes back as text; the columns read here (counts, revenue) fit a double.
    if (NUMERIC.test(type)) {
      const n = Number(f.stringValue);
      if (Number.isFinite(n)) return n;
    }
    return f.stringValue;
  }
  return null;
}

export async function getStatementResult(client: RedshiftDataClient, statementId: string, nextToken?: string): Promise<ResultPage> {
  const out = await awsCall(`Redshift statement ${statementId}`, 'GetStatementResult', () =>
    client.send(new GetStatementResultCommand({ Id: statementId, NextToken: nextToken })),
  );
  const columns = (out.ColumnMetadata ?? []).map((c) => ({ name: c.name ?? c.label ?? '', type: c.typeName ?? 'varchar' }));
  return {
    columns,
    rows: (out.Records ?? []).map((rec) => columns.map((c, i) => fieldCell(rec[i], c.type))),
    ...(out.NextToken ? { nextToken: out.NextToken } : {}),
  };
}

export async function cancelStatement(client: RedshiftDataClient, statementId: string): Promise<void> {
  try {
    await client.send(new CancelStatementCommand({ Id: statementId }));
  } catch (err) {
    // A statement that already finished cannot be cancelled, and needs not be.
    if (awsErrorName(err) === 'ValidationException') return;
    await awsCall(`Redshift statement ${statementId}`, 'CancelStatement', () => Promise.reject(err));
  }
}
