/** The catalog stage on AWS: the Glue crawler over raw/ and the tables it made. */
import { GetCrawlerCommand, GetTablesCommand, StartCrawlerCommand } from '@aws-sdk/client-glue';
import type { GlueClient, Table } from '@aws-sdk/client-glue';
import type { AwsConfig } from '../../config';
import { ENTITIES } from '../../shared/contract';
import type { CatalogedTable, CrawlHandle, CrawlStatus } from '../types';
import { awsCall, awsErrorName } from './aws-errors';
import { consoleLinks } from './console-links';
import { SHEETS_TABLE_PREFIX } from './validate-sql';

export async function startCrawl(glue: GlueClient, config: AwsConfig): Promise<CrawlHandle> {
  const resource = `Glue crawler ${config.glueCrawler}`;
  try {
    await glue.send(new StartCrawlerCommand({ Name: config.glueCrawler }));
    return { crawlId: config.glueCrawler, alreadyRunning: false };
  } catch (err) {
    // A crawl already under way (a schedule, another run, or our own start whose reply was lost)
    // covers the same folders, so waiting for it is as good as starting one.
    if (awsErrorName(err) === 'CrawlerRunningException') return { crawlId: config.glueCrawler, alreadyRunning: true };
    return awsCall(resource, 'StartCrawler', () => Promise.reject(err));
  }
}

export async function getCrawlState(glue: GlueClient, config: AwsConfig, crawlerName: string): Promise<CrawlStatus> {
  const consoleUrl = consoleLinks.crawler(config.region, crawlerName);
  const { Crawler: c } = await awsCall(`Glue crawler ${crawlerName}`, 'GetCrawler', () =>
    glue.send(new GetCrawlerCommand({ Name: crawlerName })),
  );
  if (!c) return { state: 'FAILED', message: `Glue crawler ${crawlerName} was not returned by GetCrawler`, consoleUrl };
  if (c.State !== 'READY')
    return { state: 'RUNNING', consoleUrl, metrics: c.CrawlElapsedTime ? { elapsedMs: c.CrawlElapsedTime } : undefined };
  const last = c.LastCrawl;
  const logs = last?.LogGroup ? ` (logs: ${last.LogGroup}/${last.LogStream ?? crawlerName})` : '';
  switch (last?.Status) {
    case 'SUCCEEDED':
    case 'COMPLETED' as string: // moto's name for a finished crawl
      return { state: 'SUCCEEDED', consoleUrl, tables: await listCatalogedTables(glue, config) };
    case 'CANCELLED':
      return { state: 'CANCELLED', message: `Glue crawler ${crawlerName}: last crawl was cancelled${logs}`, consoleUrl };
    case 'FAILED':
      return { state: 'FAILED', message: `Glue crawler ${crawlerName}: ${last.ErrorMessage ?? 'crawl failed'}${logs}`, consoleUrl };
    default:
      return { state: 'FAILED', retryable: true, message: `Glue crawler ${crawlerName} is READY but has no finished crawl`, consoleUrl };
  }
}

async function listCatalogedTables(glue: GlueClient, config: AwsConfig): Promise<CatalogedTable[]> {
  const tables: Table[] = [];
  let nextToken: string | undefined;
  do {
    const page = await awsCall(`Glue database ${config.glueDatabase}`, 'GetTables', () =>
      glue.send(new GetTablesCommand({ DatabaseName: config.glueDatabase, NextToken: nextToken })),
    );
    tables.push(...(page.TableList ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  const found: CatalogedTable[] = [];
  for (const entity of ENTITIES) {
    // The converted sheets' tables are setup's, not the crawler's.
    const crawled = tables.filter((x) => !x.Name?.startsWith(SHEETS_TABLE_PREFIX));
    const t = crawled.find((x) => x.Name === entity) ?? crawled.find((x) => x.Name?.endsWith(`_${entity}`));
    if (!t) continue;
    const recordCount = Number(t.Parameters?.recordCount);
    found.push({
      entity,
      columns: (t.StorageDescriptor?.Columns ?? []).map((col) => col.Name ?? ''),
      ...(Number.isFinite(recordCount) ? { rowCount: recordCount } : {}),
    });
  }
  return found;
}

// ---- ETL job --------------------------------------------------------------------------------------
