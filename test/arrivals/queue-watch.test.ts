/**
 * `pipeline watch` on the aws backend against moto over HTTP: `pipeline aws setup`'s queue and
 * bucket notification carry real ObjectCreated events from S3 to SQS, the watcher reads them with
 * long polling, lists the partitions with the sensor's listing and starts the run with
 * signal-with-start on a real dev server. No worker polls the task queue, so the run stays open and
 * its history shows exactly what the watcher sent. Messages are deleted only once their date is
 * dealt with (and kept hidden meanwhile); a repeated notification changes nothing; a scheduled run of
 * the date is signalled, not doubled. And the command's one-line errors for a queue that does not
 * exist, a bad queue setting, an unreachable queue URL and missing credentials.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/activities/aws/clients';
import { createAwsClients, destroyAwsClients } from '../../src/activities/aws/clients';
import { bucketLister } from '../../src/arrivals/partitions';
import { QueueSource } from '../../src/arrivals/queue-source';
import { temporalRunStarter } from '../../src/arrivals/run-starter';
import { createSqsClient } from '../../src/arrivals/sqs-queue';
import { watchArrivals } from '../../src/arrivals/watcher';
import { runSetup } from '../../src/client/aws-setup/setup';
import type { AwsConfig } from '../../src/config';
import type { RawDataArrival } from '../../src/workflows/definitions';
import { pipelineWorkflowId, SA_RUN_DATE, SA_TRIGGER } from '../../src/workflows/definitions';
import type { MotoServer } from '../support/moto';
import { motoAwsConfig, startMoto, useMotoCredentials } from '../support/moto';
import { startTestDevServer } from '../support/temporal/dev-server';
import type { TestDevServer } from '../support/temporal/dev-server';

const CLI = path.resolve(__dirname, '../../bin/pipeline');
const DATE = '2025-10-27';
const QUIET_MS = 1_500;
const VISIBILITY_S = 4;
const { EventType } = temporal.api.enums.v1;

let moto: MotoServer;
let server: TestDevServer;
let config: AwsConfig;
let clients: AwsClients;
let sqs: SQSClient;
let queueUrl: string;
const said: { at: number; text: string }[] = [];
const controller = new AbortController();
let watching: Promise<void>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}; the watcher said:\n${said.map((l) => l.text).join('\n')}`);
}

const put = (key: string, body = 'id\n1\n') =>
  clients.s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: `${config.prefix}${key}`, Body: body }));

async function queueCounts(): Promise<{ visible: number; inFlight: number }> {
  const a = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(a.Attributes?.ApproximateNumberOfMessages),
    inFlight: Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

async function runExists(): Promise<boolean> {
  try {
    await server.client.workflow.getHandle(pipelineWorkflowId(DATE)).describe();
    return true;
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return false;
    throw err;
  }
}

/** The rawDataArrived signals in the run's history, as sent. */
async function arrivalSignals(): Promise<RawDataArrival[]> {
  const history = await server.client.workflow.getHandle(pipelineWorkflowId(DATE)).fetchHistory();
  const out: RawDataArrival[] = [];
  for (const e of history.events ?? []) {
    if (e.eventType !== EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) continue;
    const attrs = e.workflowExecutionSignaledEventAttributes!;
    expect(attrs.signalName).toBe('rawDataArrived');
    out.push(JSON.parse(Buffer.from(attrs.input!.payloads![0]!.data!).toString()) as RawDataArrival);
  }
  return out;
}

beforeAll(async () => {
  useMotoCredentials();
  [moto, server] = await Promise.all([startMoto(), startTestDevServer()]);
  config = motoAwsConfig(moto.url, { bucket: 'pipeline-arrivals-lake', arrivalsQueue: 'arrivals-watch-test' });
  clients = createAwsClients(config);
  sqs = createSqsClient(config);
  await runSetup(config, clients, { apply: true, skipWarehouse: true, sqs });
  queueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: 'arrivals-watch-test' }))).QueueUrl!;

  watching = watchArrivals({
    // A short visibility, so that holding a message means extending it several times within the test.
    source: new QueueSource(sqs, queueUrl, config, (text) => said.push({ at: Date.now(), text }), { visibilitySeconds: VISIBILITY_S }),
    list: bucketLister(clients.s3, config),
    starter: temporalRunStarter(server.client, 'arrivals-no-worker'),
    quietMs: QUIET_MS,
    say: (text) => said.push({ at: Date.now(), text }),
    signal: controller.signal,
  });
}, 120_000);

afterAll(async () => {
  controller.abort();
  await watching?.catch(() => undefined);
  sqs?.destroy();
  if (clients) destroyAwsClients(clients);
  await Promise.all([moto?.stop(), server?.stop()]);
});

describe('pipeline watch over the arrivals queue (moto)', () => {
  it("reads the s3:TestEvent that setup's notification sent and deletes it", async () => {
    await waitFor('the test event', () => said.find((l) => l.text.startsWith('s3:TestEvent')));
    expect(said[0]!.text).toBe("s3:TestEvent from pipeline-arrivals-lake: the bucket's notifications reach the queue");
    await waitFor('the queue to be empty', async () => {
      const c = await queueCounts();
      return c.visible + c.inFlight === 0 ? true : undefined;
    });
  });

  it('starts the run once all three partitions have files and are quiet, holding the messages until then', async () => {
    await put(`raw/orders/${DATE}/orders.csv`);
    await put(`raw/customers/${DATE}/customers.csv`);
    // Not raw data of a date: dropped at once.
    await put('processed/gold/x.parquet');
    await put(`raw/orders/not-a-date/orders.csv`);
    // Past the quiet period and two visibility timeouts: the two arrivals wait in flight, not deleted,
    // while their date is incomplete (that they stay hidden meanwhile: 'the queue source' below).
    await sleep(QUIET_MS + 2 * VISIBILITY_S * 1000);
    expect(await queueCounts()).toEqual({ visible: 0, inFlight: 2 });
    expect(await runExists()).toBe(false);

    await put(`raw/products/${DATE}/products.csv`);
    const lastPut = Date.now();
    const started = await waitFor('the run to start', () => said.find((l) => l.text.includes('; started ')));
    expect(started.text).toBe(`${DATE}: all three partitions present, quiet for 1.5 s; started ${pipelineWorkflowId(DATE)}`);
    expect(started.at - lastPut).toBeGreaterThanOrEqual(QUIET_MS);

    const desc = await server.client.workflow.getHandle(pipelineWorkflowId(DATE)).describe();
    expect(desc.status.name).toBe('RUNNING');
    expect(desc.taskQueue).toBe('arrivals-no-worker');
    expect(desc.typedSearchAttributes.get(SA_TRIGGER)).toBe('event');
    expect(desc.typedSearchAttributes.get(SA_RUN_DATE)).toBe(DATE);
    const signals = await arrivalSignals();
    expect(signals).toHaveLength(1);
    expect(signals[0]).toMatchObject({
      source: 'sqs',
      // In the contract's entity order, as the sensor lists them.
      keys: [`raw/customers/${DATE}/customers.csv`, `raw/products/${DATE}/products.csv`, `raw/orders/${DATE}/orders.csv`],
    });
    await waitFor('the handled messages to be deleted', async () => {
      const c = await queueCounts();
      return c.visible + c.inFlight === 0 ? true : undefined;
    });
  }, 60_000);

  it('signals the running run when more files arrive, and a repeated notification does nothing', async () => {
    await put(`raw/orders/${DATE}/orders_2.csv`);
    const signalled = await waitFor('the signal', () => said.find((l) => l.text.includes('already running')));
    expect(signalled.text).toBe(
      `${DATE}: all three partitions present, quiet for 1.5 s; ${pipelineWorkflowId(DATE)} already running, signalled`,
    );
    expect(await arrivalSignals()).toHaveLength(2);

    // The same notification again (SQS delivers at least once): the files are those already acted on.
    const before = said.length;
    const body = JSON.stringify({
      Records: [
        {
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: config.bucket }, object: { key: encodeURIComponent(`${config.prefix}raw/orders/${DATE}/orders_2.csv`) } },
        },
      ],
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    await waitFor('the repeated message to be deleted', async () => {
      const c = await queueCounts();
      return c.visible + c.inFlight === 0 ? true : undefined;
    });
    await sleep(QUIET_MS + 500);
    expect(said.slice(before)).toEqual([]);
    expect(await arrivalSignals()).toHaveLength(2);
    const runs = [];
    for await (const wf of server.client.workflow.list({ query: `PipelineRunDate = "${DATE}"` })) runs.push(wf.workflowId);
    expect(runs).toEqual([pipelineWorkflowId(DATE)]);
  }, 60_000);

  it("signals the schedule's run of the date instead of starting a second run", async () => {
    // A scheduled run (its id is the schedule's id and time) as visibility shows it once its first
    // workflow task has recorded the run date.
    const date = '2025-10-29';
    const scheduledId = `daily-ecommerce-pipeline-${date}T19:40:00Z`;
    await server.client.workflow.start('dailyPipeline', {
      taskQueue: 'arrivals-no-worker',
      workflowId: scheduledId,
      args: [{ trigger: 'schedule' }],
      typedSearchAttributes: [
        { key: SA_RUN_DATE, value: date },
        { key: SA_TRIGGER, value: 'schedule' },
      ],
    });
    await waitFor('visibility to show the scheduled run', async () => {
      for await (const wf of server.client.workflow.list({ query: `PipelineRunDate = "${date}"` })) return wf;
      return undefined;
    });
    for (const entity of ['customers', 'products', 'orders']) await put(`raw/${entity}/${date}/${entity}.csv`);
    const line = await waitFor('the signal', () => said.find((l) => l.text.startsWith(`${date}:`)));
    expect(line.text).toBe(`${date}: all three partitions present, quiet for 1.5 s; ${scheduledId} already running, signalled`);
    const history = await server.client.workflow.getHandle(scheduledId).fetchHistory();
    expect(history.events!.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'rawDataArrived')).toHaveLength(1);
    await expect(server.client.workflow.getHandle(pipelineWorkflowId(date)).describe()).rejects.toThrow(/not found/i);
  }, 60_000);

  it('stops at once when aborted, mid long poll', async () => {
    await sleep(500); // inside a 20 s long poll by now
    const t = Date.now();
    controller.abort();
    await watching;
    expect(Date.now() - t).toBeLessThan(3_000);
  });
});

describe('the queue source', () => {
  it('keeps a message of a date still waiting hidden from other consumers, by extending its visibility, until released', async () => {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: 'arrivals-hold-test' }))).QueueUrl!;
    const source = new QueueSource(sqs, url, config, () => undefined, { visibilitySeconds: 2 });
    const body = JSON.stringify({
      Records: [
        {
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: config.bucket }, object: { key: `${config.prefix}raw/orders/2025-10-28/orders.csv` } },
        },
      ],
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
    expect(await source.next(1_000, new AbortController().signal)).toEqual(['2025-10-28']);
    // Three visibility timeouts, the source extending as the watcher's loop would between polls.
    const otherConsumer = sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 6, MaxNumberOfMessages: 10 }));
    for (let i = 0; i < 12; i++) {
      await sleep(500);
      await source.hold();
    }
    expect((await otherConsumer).Messages ?? []).toEqual([]);
    await source.release('2025-10-28');
    await sleep(2_500);
    const left = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }));
    expect(left.Messages ?? []).toEqual([]);
  }, 30_000);
});

describe('pipeline watch: one line for what an operator must fix', () => {
  function watchCli(env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
    return new Promise((resolve) => {
      const child = spawn(CLI, ['watch'], {
        env: {
          ...process.env,
          NO_COLOR: '1',
          TEMPORAL_ADDRESS: server.address,
          TEMPORAL_NAMESPACE: server.namespace,
          PIPELINE_BACKEND: 'aws',
          AWS_REGION: 'us-east-1',
          PIPELINE_AWS_ENDPOINT_URL: moto.url,
          PIPELINE_S3_BUCKET: config.bucket,
          PIPELINE_S3_PREFIX: config.prefix,
          PIPELINE_REDSHIFT_WORKGROUP: 'pipeline',
          // This machine's Node 20 makes the SDK warn on stderr about its future support; not the command's output.
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...env,
        },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, out, err });
      });
    });
  }

  it('names a queue that does not exist and the command that creates it', async () => {
    const r = await watchCli({ PIPELINE_ARRIVALS_QUEUE: 'no-such-queue' });
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toEqual([
      "pipeline: watch: the arrivals queue no-such-queue does not exist (PIPELINE_ARRIVALS_QUEUE); create it and the bucket's notification with `pipeline aws setup --apply`",
    ]);
  }, 60_000);

  it('refuses a queue setting that is neither a name nor a queue URL, naming the setting', async () => {
    const r = await watchCli({ PIPELINE_ARRIVALS_QUEUE: 'arrivals queue!' });
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^pipeline: configuration error: PIPELINE_ARRIVALS_QUEUE: .*expected an SQS queue name/);
  }, 60_000);

  it('says when no AWS credentials can be found', async () => {
    const r = await watchCli({
      PIPELINE_ARRIVALS_QUEUE: 'arrivals-watch-test',
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_CONFIG_FILE: '/nonexistent/config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: '',
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '',
      AWS_WEB_IDENTITY_TOKEN_FILE: '',
    });
    expect(r.code).toBe(1);
    const err = r.err.trim().split('\n');
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(
      /^pipeline: watch: no usable AWS credentials \(CredentialsProviderError: .*\); set AWS_PROFILE or AWS_ACCESS_KEY_ID/,
    );
  }, 60_000);

  it('names a queue URL that leads nowhere', async () => {
    const r = await watchCli({ PIPELINE_ARRIVALS_QUEUE: 'http://127.0.0.1:1/123456789012/arrivals' });
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^pipeline: watch: (cannot reach )?the arrivals queue http:\/\/127\.0\.0\.1:1\/123456789012\/arrivals /);
  }, 60_000);
});
