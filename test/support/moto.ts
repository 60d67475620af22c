/**
 * A real moto server for AWS contract tests: started on 127.0.0.1 on a free port, stopped after.
 * Also the pieces of moto's own HTTP API the tests use (state manager, canned Athena results, reset).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { AwsConfig } from '../../src/config';

export interface MotoServer {
  url: string;
  /** Sets how moto advances a model: e.g. glue::job_run manual after N reads, or time-based. */
  setTransition(
    model: string,
    transition: { progression: 'immediate' } | { progression: 'manual'; times: number } | { progression: 'time'; seconds: number },
  ): Promise<void>;
  /** Queues canned Athena results, handed to the next query executions in order. */
  queueAthenaResults(
    region: string,
    results: { rows: { Data: { VarCharValue?: string }[] }[]; column_info: { Name: string; Type: string }[] }[],
  ): Promise<void>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitUntilUp(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`moto server exited with ${child.exitCode}: ${stderr()}`);
    try {
      const res = await fetch(`${url}/moto-api/data.json`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto server at ${url} did not come up: ${stderr()}`);
}

async function post(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`POST ${url} -> ${res.status}: ${await res.text()}`);
}

export async function startMoto(): Promise<MotoServer> {
  const port = await freePort();
  const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilUp(url, child, () => err);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    url,
    setTransition: (model, transition) => post(`${url}/moto-api/state-manager/set-transition`, { model_name: model, transition }),
    queueAthenaResults: (region, results) => post(`${url}/moto-api/static/athena/query-results`, { region, results }),
    reset: () => post(`${url}/moto-api/reset`, {}),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Credentials moto accepts; set in the environment so the SDK's default chain finds them. */
export function useMotoCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
}

export function motoAwsConfig(url: string, overrides: Partial<AwsConfig> = {}): AwsConfig {
  return {
    region: 'us-east-1',
    endpointUrl: url,
    bucket: 'pipeline-test-lake',
    prefix: 'lake/',
    glueDatabase: 'ecommerce_raw',
    glueCrawler: 'ecommerce-raw-crawler',
    glueJob: 'ecommerce-etl-job',
    glueRoleArn: 'arn:aws:iam::123456789012:role/pipeline-glue',
    athenaWorkgroup: 'primary',
    athenaOutput: 's3://pipeline-test-lake/lake/athena-results/',
    redshift: { workgroup: 'pipeline', database: 'dev', schema: 'analytics', copyRoleArn: 'arn:aws:iam::123456789012:role/pipeline-copy' },
    ...overrides,
  };
}
