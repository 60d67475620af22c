/**
 * Athena GetQueryResults over several pages (moto serves one page only, so aws-sdk-client-mock):
 * the activity reads one page per call, passes the token on, drops the header row of the first page
 * only, and the pages read in a loop (as the validate stage does) give every row once.
 */
import { AthenaClient, GetQueryResultsCommand } from '@aws-sdk/client-athena';
import type { GetQueryResultsCommandOutput } from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAwsActivities } from '../../src/activities/aws';
import type { AwsClients } from '../../src/activities/aws/clients';
import type { ResultPage, RunRef } from '../../src/activities/types';
import { pageToRecords, toQualityResults } from '../../src/shared/results';
import { motoAwsConfig } from '../support/moto';

const run: RunRef = { runDate: '2025-10-27', workflowId: 'daily-2025-10-27', stage: 'validate', stageAttempt: 1 };

const client = new AthenaClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const mock = mockClient(client);
const acts = createAwsActivities(motoAwsConfig('http://unused'), { webUiUrl: '', clients: { athena: client } as unknown as AwsClients });

const COLUMNS = ['entity', 'check', 'value', 'threshold', 'passed'];
const TYPES = ['varchar', 'varchar', 'double', 'double', 'boolean'];
const row = (values: string[]) => ({ Data: values.map((v) => ({ VarCharValue: v })) });

/** What Athena sends: column info on every page, the header row only at the top of the first. */
function page(rows: string[][], nextToken?: string): Partial<GetQueryResultsCommandOutput> {
  return {
    ResultSet: { ResultSetMetadata: { ColumnInfo: COLUMNS.map((Name, i) => ({ Name, Type: TYPES[i] })) }, Rows: rows.map(row) },
    ...(nextToken ? { NextToken: nextToken } : {}),
  };
}

beforeEach(() => mock.reset());

describe('getQueryResults over several pages', () => {
  it('reads page after page with the token and keeps every data row exactly once', async () => {
    mock
      .on(GetQueryResultsCommand, { QueryExecutionId: 'q-1', NextToken: undefined })
      .resolves(
        page([COLUMNS, ['customers', 'row_count', '5', '1', 'true'], ['customers', 'completeness', '1.0', '0.95', 'true']], 'page-2'),
      )
      .on(GetQueryResultsCommand, { QueryExecutionId: 'q-1', NextToken: 'page-2' })
      // A data row that happens to read like the header is still data on a later page.
      .resolves(page([COLUMNS, ['products', 'validity', '0.5', '0.97', 'false']], 'page-3'))
      .on(GetQueryResultsCommand, { QueryExecutionId: 'q-1', NextToken: 'page-3' })
      .resolves(page([['orders', 'referential_consistency', '0.99', '0.99', 'true']]));

    const pages: ResultPage[] = [];
    let nextToken: string | undefined;
    do {
      const p = await acts.getQueryResults({ run, queryId: 'q-1', nextToken });
      pages.push(p);
      nextToken = p.nextToken;
    } while (nextToken);

    const sent = mock.commandCalls(GetQueryResultsCommand).map((c) => c.args[0].input);
    expect(sent.map((i) => i.NextToken)).toEqual([undefined, 'page-2', 'page-3']);
    expect(sent.every((i) => i.QueryExecutionId === 'q-1' && i.MaxResults === 1000)).toBe(true);
    expect(pages.map((p) => p.nextToken)).toEqual(['page-2', 'page-3', undefined]);
    expect(pages.map((p) => p.rows.length)).toEqual([2, 2, 1]);
    expect(pages.flatMap((p) => p.rows)).toEqual([
      ['customers', 'row_count', 5, 1, true],
      ['customers', 'completeness', 1, 0.95, true],
      ['entity', 'check', 'value', 'threshold', false], // typed by its columns like any row
      ['products', 'validity', 0.5, 0.97, false],
      ['orders', 'referential_consistency', 0.99, 0.99, true],
    ]);
    expect(pages.every((p) => p.columns.map((c) => c.name).join() === COLUMNS.join())).toBe(true);
  });

  it('a report spread over pages reads as one report', async () => {
    mock
      .on(GetQueryResultsCommand, { NextToken: undefined })
      .resolves(page([COLUMNS, ['customers', 'row_count', '5', '1', 'true']], 't'))
      .on(GetQueryResultsCommand, { NextToken: 't' })
      .resolves(page([['orders', 'validity', '0.5', '0.97', 'false']]));
    const first = await acts.getQueryResults({ run, queryId: 'q-2' });
    const second = await acts.getQueryResults({ run, queryId: 'q-2', nextToken: first.nextToken });
    const results = toQualityResults([...pageToRecords(first), ...pageToRecords(second)]);
    expect(results).toEqual([
      { entity: 'customers', check: 'row_count', value: 5, threshold: 1, passed: true },
      { entity: 'orders', check: 'validity', value: 0.5, threshold: 0.97, passed: false },
    ]);
  });
});
