/**
 * The aws backend: every activity is one AWS call (S3, Glue, Athena, Redshift Data, SNS) through
 * clients built once per worker. Failures come back classified (see aws-errors.ts) and name the resource.
 */
import type { AwsConfig, ExtractConfig } from '../../config';
import { badConfig } from '../errors';
import type { NotifyActivities, PipelineActivities } from '../types';
import * as catalog from './catalog';
import { checkRawColumnOrder, columnOrderFailure } from './catalog-column-order';
import { convertWorkbooks, unreadInWorkbooks } from './catalog-workbooks';
import type { AwsClients } from './clients';
import { createAwsClients, destroyAwsClients } from './clients';
import { extractToBucket } from './extract';
import * as load from './load';
import { publishNotice } from './notify';
import { listRawPartition, readEtlMetrics, unreadInPartitions } from './s3';
import * as transform from './transform';
import * as validate from './validate';

export interface AwsActivities extends PipelineActivities {
  close(): Promise<void>;
}

export interface AwsActivityOptions {
  webUiUrl: string;
  /**
   * Where notices go without an SNS topic (PIPELINE_SNS_TOPIC_ARN): built on the first such notice.
   * The worker passes the local notifier (console, outbox, webhook); this backend loads nothing of
   * the local one itself.
   */
  fallbackNotifier?: () => NotifyActivities;
  /** Injected clients (tests, or a worker sharing them); built from config otherwise. */
  clients?: AwsClients;
  /** Where ddl.sql, load.sql and verify.sql live; sql/redshift/ by default. */
  sqlDir?: string;
  /** The optional extract stage's PostgreSQL source; without it, a run that asks for extract fails it with one line. */
  extract?: ExtractConfig;
}

export function createAwsActivities(config: AwsConfig, options: AwsActivityOptions): AwsActivities {
  const clients = options.clients ?? createAwsClients(config);
  const ownsClients = !options.clients;
  let fallback: NotifyActivities | undefined;

  return {
    extractEntity: (input) => extractToBucket(clients.s3, config, options.extract, input),

    listRawPartition: (input) => listRawPartition(clients.s3, config, input),

    async startCrawl({ run }) {
      // The crawler reads no workbooks: their sheets become CSV under converted/ first (catalog-workbooks.ts).
      await convertWorkbooks(clients.s3, config, run.runDate);
      return catalog.startCrawl(clients.glue, config);
    },
    async getCrawlState({ run, crawlId }) {
      const status = await catalog.getCrawlState(clients.glue, config, crawlId);
      if (status.state !== 'SUCCEEDED') return status;
      const problems = await checkRawColumnOrder(clients.s3, config, run.runDate, status.tables ?? []);
      if (problems.length > 0) return { state: 'FAILED', message: columnOrderFailure(problems), consoleUrl: status.consoleUrl };
      const [files, sheets] = await Promise.all([
        unreadInPartitions(clients.s3, config, run.runDate),
        unreadInWorkbooks(clients.s3, config, run.runDate),
      ]);
      const unread = [...files, ...sheets].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      return unread.length ? { ...status, unread } : status;
    },

    startQuery: (input) => validate.startQuery(clients.athena, config, input),
    getQueryState: ({ queryId }) => validate.getQueryState(clients.athena, config, queryId),
    getQueryResults: ({ queryId, nextToken }) => validate.getQueryResults(clients.athena, queryId, nextToken),
    stopQuery: ({ queryId }) => validate.stopQuery(clients.athena, queryId),

    startEtlRun: ({ run }) => transform.startEtlRun(clients.glue, config, run),
    async getEtlRunState({ run, etlRunId }) {
      const { status } = await transform.getEtlRun(clients.glue, config, etlRunId, clients.logs);
      if (status.state !== 'SUCCEEDED') return status;
      const produced = await readEtlMetrics(clients.s3, config, run.runDate);
      return { ...status, metrics: { ...produced, ...status.metrics } };
    },
    stopEtlRun: ({ etlRunId }) => transform.stopEtlRun(clients.glue, config, etlRunId),

    startWarehouseStatements: ({ run, operation }) =>
      load.startWarehouseStatements(clients.redshiftData, config, run, operation, options.sqlDir),
    getStatementState: ({ statementId }) => load.getStatementState(clients.redshiftData, config, statementId),
    getStatementResult: ({ statementId, nextToken }) => load.getStatementResult(clients.redshiftData, statementId, nextToken),
    cancelStatement: ({ statementId }) => load.cancelStatement(clients.redshiftData, statementId),

    async publishNotification(notice) {
      if (config.snsTopicArn) return publishNotice(clients.sns, config.snsTopicArn, notice, options.webUiUrl);
      // Without a topic, notices still reach the operator through the fallback (the local channels).
      if (!options.fallbackNotifier) throw badConfig('PIPELINE_SNS_TOPIC_ARN is not set and this worker has no other channel for notices');
      fallback ??= options.fallbackNotifier();
      return fallback.publishNotification(notice);
    },

    close() {
      if (ownsClients) destroyAwsClients(clients);
      return Promise.resolve();
    },
  };
}
