/**
 * The whole dailyPipeline on a real Temporal dev server with the aws backend: S3, Glue, Athena and
 * SNS over HTTP to moto, Redshift Data answered in-process. One date goes from the raw-data sensor
 * to the SNS notice in an SQS queue, and the status query shows every stage and what it started.
 */
import { ListQueryExecutionsCommand } from '@aws-sdk/client-athena';
import { GetJobRunCommand } from '@aws-sdk/client-glue';
import { BatchExecuteStatementCommand, ExecuteStatementCommand } from '@aws-sdk/client-redshift-data';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { JobRun } from '@aws-sdk/client-glue';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsActivities } from '../../src/activities/aws';
import type { AwsClients } from '../../src/activities/aws/clients';
import { createAwsClients, destroyAwsClients } from '../../src/activities/aws/clients';
import type { AppConfig, AwsConfig } from '../../src/config';
import { STAGES } from '../../src/shared/contract';
import { createPipelineWorker } from '../../src/worker';
import type { DeepPartial, PipelineOptions, PipelineResult, PipelineStatus } from '../../src/workflows/definitions';
import { pipelineWorkflowId, statusQuery, WORKFLOW_TYPE } from '../../src/workflows/definitions';
import type { MotoServer } from '../support/moto';
import { motoAwsConfig, startMoto, useMotoCredentials } from '../support/moto';
import type { TestDevServer } from '../support/temporal/dev-server';
import { startTestDevServer } from '../support/temporal/dev-server';
import type { MotoWorld } from './support/workflow-moto-fixture';
import {
  buildMotoWorld,
  etlMetrics,
  fakeRedshiftData,
  ORDERS_REVENUE,
  passingQualityReport,
  playCrawler,
  playGlueJob,
  RAW_FILES,
} from './support/workflow-moto-fixture';

const RUN_DATE = '2025-10-27';
const local = { lakeDir: '/nonexistent', warehousePath: '/nonexistent', outboxPath: '/nonexistent', duckdbMemoryLimit: '1GB' };

const retry = { initialInterval: '100 ms', backoffCoefficient: 2, maximumAttempts: 3 } as const;
const quick = { pollInterval: '200 ms', timeout: '1 minute', retry, activityTimeout: '20 seconds' } as const;
const FAST: DeepPartial<PipelineOptions> = {
  stages: {
    awaitRawData: { ...quick, softDeadline: '1 minute' },
    catalog: quick,
    validate: quick,
    transform: quick,
    load: quick,
    verify: quick,
    notify: quick,
  },
  operatorWait: '5 seconds',
};

let moto: MotoServer;
let temporal: TestDevServer;
let config: AwsConfig;
let clients: AwsClients;
let world: MotoWorld;
let redshift: ReturnType<typeof fakeRedshiftData>;

beforeAll(async () => {
  // Before any connection creates the runtime: stage-by-stage INFO lines would drown the report.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  useMotoCredentials();
  [moto, temporal] = await Promise.all([startMoto(), startTestDevServer()]);
  config = motoAwsConfig(moto.url, { athenaWorkgroup: 'pipeline-wg' });
  clients = createAwsClients(config);
  world = await buildMotoWorld(moto, config, clients, RUN_DATE);
  config = { ...config, snsTopicArn: world.topicArn };
  redshift = fakeRedshiftData(config.region);
});

afterAll(async () => {
  world?.sqs.destroy();
  if (clients) destroyAwsClients(clients);
  await temporal?.stop();
  await moto?.stop();
});

describe('dailyPipeline with the aws backend against moto', () => {
  it('runs one date from the raw-data sensor to the SNS notice', async () => {
    const appConfig: AppConfig = {
      backend: 'aws',
      logLevel: 'warn',
      temporal: {
        address: temporal.address,
        namespace: temporal.namespace,
        taskQueue: 'aws-moto-workflow',
        webUiUrl: 'http://127.0.0.1:8233',
      },
      local,
      aws: config,
    };
    const activities = createAwsActivities(config, {
      webUiUrl: appConfig.temporal.webUiUrl,
      clients: { ...clients, redshiftData: redshift.client },
    });
    const { worker } = await createPipelineWorker({ config: appConfig, connection: temporal.nativeConnection, activities });

    let result: PipelineResult | undefined;
    let status: PipelineStatus | undefined;
    let jobRun: JobRun | undefined;
    await worker.runUntil(async () => {
      const handle = await temporal.client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: appConfig.temporal.taskQueue,
        workflowId: pipelineWorkflowId(RUN_DATE),
        args: [{ runDate: RUN_DATE, trigger: 'manual', options: FAST }],
      });
      // What Glue would do on its own: the crawl registers tables, the job writes its metrics.
      const catalogReads = async () => (await handle.query(statusQuery)).stages.find((s) => s.stage === 'catalog')?.metrics.polls ?? 0;
      const played = Promise.all([playCrawler(moto, config, clients, catalogReads), playGlueJob(moto, config, clients, RUN_DATE)]);
      // A run stuck at a failed stage would otherwise hide behind the crawler or job never starting.
      const outcome = handle.result() as Promise<PipelineResult>;
      [, jobRun] = await Promise.race([
        played,
        outcome.then((r) => Promise.reject(new Error(`run ended before Glue work was played: ${JSON.stringify(r)}`))),
      ]);
      result = await outcome;
      status = await handle.query(statusQuery);
    });

    expect(result?.state).toBe('succeeded');
    expect(status?.state).toBe('succeeded');
    const stages = Object.fromEntries((status?.stages ?? []).map((s) => [s.stage, s]));
    expect(Object.keys(stages)).toEqual([...STAGES]);
    expect(stages.extract).toMatchObject({ state: 'skipped', attempts: 0 });
    for (const stage of STAGES.filter((s) => s !== 'extract')) {
      expect(stages[stage]?.state, `${stage}: ${stages[stage]?.message ?? ''}`).toBe('succeeded');
      expect(stages[stage]?.attempts).toBe(1);
    }

    // The sensor found one file per entity.
    for (const entity of Object.keys(RAW_FILES)) expect(stages.awaitRawData?.metrics[`${entity}.files`]).toBe(1);

    // catalog: the crawler it started, read until READY, and the tables the crawl registered.
    expect(stages.catalog?.externalIds.crawl).toBe(config.glueCrawler);
    expect(stages.catalog?.metrics.polls).toBeGreaterThan(1);
    expect(stages.catalog?.metrics['orders.rows']).toBe(RAW_FILES.orders.rows.length);

    // validate: the Athena execution it started, in our workgroup, and the report it judged.
    const queries = await clients.athena.send(new ListQueryExecutionsCommand({ WorkGroup: config.athenaWorkgroup }));
    expect(queries.QueryExecutionIds).toContain(stages.validate?.externalIds.qualityQuery);
    expect(status?.quality).toEqual(passingQualityReport());

    // transform: the Glue job run it started for this date, and the metrics the job left in S3.
    expect(jobRun?.Id).toMatch(/^jr_/);
    expect(stages.transform?.externalIds.etlRunId).toBe(jobRun?.Id);
    const finished = await clients.glue.send(new GetJobRunCommand({ JobName: config.glueJob, RunId: jobRun?.Id }));
    expect(finished.JobRun?.JobRunState).toBe('SUCCEEDED');
    expect(stages.transform?.metrics).toMatchObject(etlMetrics());

    // load: one batch (one transaction) for this date on the configured workgroup, COPY from the job's output.
    const loads = redshift.mock.commandCalls(BatchExecuteStatementCommand);
    expect(loads).toHaveLength(1);
    const loadInput = loads[0]!.args[0].input;
    expect(loadInput.WorkgroupName).toBe(config.redshift.workgroup);
    expect(stages.load?.externalIds.statementId).toBe('stmt-load-1');
    expect(stages.load?.metrics.rowsAffected).toBe(9);
    const loadSql = (loadInput.Sqls ?? []).join('\n');
    expect(loadSql).toContain(`'${RUN_DATE}'`);
    expect(loadSql).toContain(`s3://${config.bucket}/${config.prefix}processed/`);

    // verify: the statement it ran and the warehouse figures it compared with the job's metrics.
    expect(redshift.mock.commandCalls(ExecuteStatementCommand)).toHaveLength(1);
    expect(stages.verify?.externalIds.statementId).toBe('stmt-verify-2');
    expect(stages.verify?.metrics['orders.warehouse_rows']).toBe(RAW_FILES.orders.rows.length);
    expect(stages.verify?.metrics['orders.revenue']).toBe(ORDERS_REVENUE);

    // notify: exactly one notice, the success one, delivered through SNS to the subscribed queue.
    expect(status?.noticesSent).toHaveLength(1);
    const got = await world.sqs.send(new ReceiveMessageCommand({ QueueUrl: world.queueUrl, WaitTimeSeconds: 5, MaxNumberOfMessages: 10 }));
    expect(got.Messages).toHaveLength(1);
    const envelope = JSON.parse(got.Messages?.[0]?.Body ?? '{}') as {
      Subject: string;
      Message: string;
      MessageAttributes: Record<string, { Value: string }>;
    };
    expect(envelope.Subject).toBe(`[ecommerce-pipeline] ${RUN_DATE} succeeded`);
    expect(envelope.MessageAttributes.status?.Value).toBe('succeeded');
    expect(envelope.MessageAttributes.run_date?.Value).toBe(RUN_DATE);
    expect(envelope.MessageAttributes.workflow_id?.Value).toBe(pipelineWorkflowId(RUN_DATE));
    expect(envelope.Message).toContain(`run date: ${RUN_DATE}`);
    expect(envelope.Message).toMatch(/transform\s+succeeded\s+.*orders \d+ read \/ 4 loaded/);
    expect(envelope.Message).toMatch(/quality gate: (\d+)\/\1 checks passed/);
    expect(envelope.Message).toContain(`http://127.0.0.1:8233/namespaces/${temporal.namespace}/workflows/${pipelineWorkflowId(RUN_DATE)}/`);
  });
});
