/**
 * The aws backend: every activity is one AWS call (S3, Glue, Athena, Redshift Data, SNS) through
 * clients built once per worker. Failures come back classified (see aws-errors.ts) and name the resource.
 */
import type { AwsConfig, LocalConfig } from '../../config';
import { createLocalNotifier } from '../notify/local';
import type { PipelineActivities } from '../types';
import * as athena from './athena';
import type { AwsClients } from './clients';
import { createAwsClients, destroyAwsClients } from './clients';
import * as glue from './glue';
import { checkRawColumnOrder, columnOrderFailure } from './raw-column-order';
import * as redshift from './redshift';
import { listRawPartition, readEtlMetrics, unreadInPartitions } from './s3';
import { publishNotice } from './sns';
import { convertWorkbooks, unreadInWorkbooks } from './workbooks';

export interface AwsActivities extends PipelineActivities {
  close(): Promise<void>;
}

export interface AwsActivityOptions {
  webUiUrl: string;
  local: LocalConfig;
  /** Injected clients (tests, or a worker sharing them); built from config otherwise. */
  clients?: AwsClients;
  /** Where ddl.sql, load.sql and verify.sql live; sql/redshift/ by default. */
  sqlDir?: string;
}

export function createAwsActivities(config: AwsConfig, options: AwsActivityOptions): AwsActivities {
  const clients = options.clients ?? createAwsClients(config);
  const ownsClients = !options.clients;
  let localNotifier: ReturnType<typeof createLocalNotifier> | undefined;

  return {
    listRawPartition: (input) => listRawPartition(clients.s3, config, input),

    async startCrawl({ run }) {
      // The crawler reads no workbooks: their sheets become CSV under converted/ first (workbooks.ts).
      await convertWorkbooks(clients.s3, config, run.runDate);
      return glue.startCrawl(clients.glue, config);
    },
    async getCrawlState({ run, crawlId }) {
      const status = await glue.getCrawlState(clients.glue, config, crawlId);
      if (status.state !== 'SUCCEEDED') return status;
      const problems = await checkRawColumnOrder(clients.s3, config, run.runDate, status.tables ?? []);
      if (problems.length > 0) return { state: 'FAILED', message: columnOrderFailure(problems), consoleUrl: status.consoleUrl };
      const [files, sheets] = await Promise.all([unreadInPartitions(clients.s3, config, run.runDate), unreadInWorkbooks(clients.s3, config, run.runDate)]);
      const unread = [...files, ...sheets].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      return unread.length ? { ...status, unread } : status;
    },

    startQuery: (input) => athena.startQuery(clients.athena, config, input),
    getQueryState: ({ queryId }) => athena.getQueryState(clients.athena, config, queryId),
    getQueryResults: ({ queryId, nextToken }) => athena.getQueryResults(clients.athena, queryId, nextToken),
    stopQuery: ({ queryId }) => athena.stopQuery(clients.athena, queryId),

    startEtlRun: ({ run }) => glue.startEtlRun(clients.glue, config, run),
    async getEtlRunState({ run, etlRunId }) {
      const { status } = await glue.getEtlRun(clients.glue, config, etlRunId, clients.logs);
      if (status.state !== 'SUCCEEDED') return status;
      const produced = await readEtlMetrics(clients.s3, config, run.runDate);
      return { ...status, metrics: { ...produced, ...status.metrics } };
    },
    stopEtlRun: ({ etlRunId }) => glue.stopEtlRun(clients.glue, config, etlRunId),

    startWarehouseStatements: ({ run, operation }) => redshift.startWarehouseStatements(clients.redshiftData, config, run, operation, options.sqlDir),
    getStatementState: ({ statementId }) => redshift.getStatementState(clients.redshiftData, config, statementId),
    getStatementResult: ({ statementId, nextToken }) => redshift.getStatementResult(clients.redshiftData, statementId, nextToken),
    cancelStatement: ({ statementId }) => redshift.cancelStatement(clients.redshiftData, statementId),

    async publishNotification(notice) {
      if (config.snsTopicArn) return publishNotice(clients.sns, config.snsTopicArn, notice, options.webUiUrl);
      // Without a topic, notices still reach the operator through the local channels.
      localNotifier ??= createLocalNotifier(options.local, { webUiUrl: options.webUiUrl });
      return localNotifier.publishNotification(notice);
    },

    close() {
      if (ownsClients) destroyAwsClients(clients);
      return Promise.resolve();
    },
  };
}
