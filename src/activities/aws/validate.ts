/** The validate stage on AWS (Athena): the quality query, its state and its typed results. */
import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import type { AthenaClient, Datum } from '@aws-sdk/client-athena';
import type { AwsConfig } from '../../config';
import { badConfig } from '../errors';
import type { Cell, JobStatus, QueryHandle, ResultPage, StartQueryInput } from '../types';
import { awsCall, awsErrorName } from './aws-errors';
import { consoleLinks } from './console-links';
import { qualityChecksSql } from './validate-sql';
import { idempotencyToken } from './tokens';

export async function startQuery(athena: AthenaClient, config: AwsConfig, input: StartQueryInput): Promise<QueryHandle> {
  if (input.query !== 'quality_checks') throw badConfig(`unknown query ${String(input.query)}`);
  const sql = qualityChecksSql(config.glueDatabase, input.run.runDate, input.thresholds);
  const out = await awsCall(`Athena workgroup ${config.athenaWorkgroup}`, 'StartQueryExecution', () =>
    athena.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        QueryExecutionContext: { Database: config.glueDatabase },
        WorkGroup: config.athenaWorkgroup,
        ResultConfiguration: { OutputLocation: config.athenaOutput },
        // Athena returns the execution it already started for a token it has seen.
        ClientRequestToken: idempotencyToken(input.run, `athena:${input.query}`),
      }),
    ),
  );
  if (!out.QueryExecutionId) throw new Error(`StartQueryExecution in Athena workgroup ${config.athenaWorkgroup} returned no id`);
  return { queryId: out.QueryExecutionId };
}

export async function getQueryState(athena: AthenaClient, config: AwsConfig, queryId: string): Promise<JobStatus> {
  const out = await awsCall(`Athena query ${queryId}`, 'GetQueryExecution', () =>
    athena.send(new GetQueryExecutionCommand({ QueryExecutionId: queryId })),
  );
  const q = out.QueryExecution;
  const consoleUrl = consoleLinks.athenaQuery(config.region, queryId);
  const metrics: Record<string, number> = {};
  if (q?.Statistics?.DataScannedInBytes !== undefined) metrics.bytesScanned = q.Statistics.DataScannedInBytes;
  if (q?.Statistics?.TotalExecutionTimeInMillis !== undefined) metrics.durationMs = q.Statistics.TotalExecutionTimeInMillis;
  const reason = q?.Status?.AthenaError?.ErrorMessage ?? q?.Status?.StateChangeReason;
  switch (q?.Status?.State) {
    case 'SUCCEEDED':
      return { state: 'SUCCEEDED', metrics, consoleUrl };
    case 'FAILED':
      return {
        state: 'FAILED',
        message: `Athena query ${queryId} failed: ${reason ?? 'no reason given'}`,
        retryable: q.Status.AthenaError?.Retryable === true,
        metrics,
        consoleUrl,
      };
    case 'CANCELLED':
      return { state: 'CANCELLED', message: `Athena query ${queryId} was cancelled${reason ? `: ${reason}` : ''}`, metrics, consoleUrl };
    default: // QUEUED, RUNNING
      return { state: 'RUNNING', metrics, consoleUrl };
  }
}

const NUMERIC = new Set(['tinyint', 'smallint', 'integer', 'int', 'bigint', 'real', 'float', 'double', 'decimal']);

/** An Athena value typed by its column: numbers and booleans as such, NULL as null, the rest text. */
export function typedCell(datum: Datum | undefined, type: string): Cell {
  const raw = datum?.VarCharValue;
  if (raw === undefined) return null;
  const base = type.toLowerCase().replace(/\(.*$/, '');
  if (base === 'boolean') return raw === 'true';
  if (NUMERIC.has(base)) {
    const n = Number(raw);
    return Number.isFinite(n) ? n : raw; // NaN/Infinity stay readable text
  }
  return raw;
}

export async function getQueryResults(athena: AthenaClient, queryId: string, nextToken?: string): Promise<ResultPage> {
  const out = await awsCall(`Athena query ${queryId}`, 'GetQueryResults', () =>
    athena.send(new GetQueryResultsCommand({ QueryExecutionId: queryId, NextToken: nextToken, MaxResults: 1000 })),
  );
  const columns = (out.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => ({
    name: c.Name ?? c.Label ?? '',
    type: c.Type ?? 'varchar',
  }));
  let rows = out.ResultSet?.Rows ?? [];
  // The first page of a SELECT starts with the header row.
  const first = rows[0]?.Data;
  if (!nextToken && first && columns.length > 0 && first.every((d, i) => d.VarCharValue === columns[i]?.name)) rows = rows.slice(1);
  return {
    columns,
    rows: rows.map((r) => columns.map((c, i) => typedCell(r.Data?.[i], c.type))),
    ...(out.NextToken ? { nextToken: out.NextToken } : {}),
  };
}

export async function stopQuery(athena: AthenaClient, queryId: string): Promise<void> {
  try {
    await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: queryId }));
  } catch (err) {
    // Stopping a query that already ended is not a failure.
    if (awsErrorName(err) === 'InvalidRequestException') return;
    await awsCall(`Athena query ${queryId}`, 'StopQueryExecution', () => Promise.reject(err));
  }
}
