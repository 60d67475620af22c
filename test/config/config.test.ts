/** Configuration is read once, and a bad value is one line that names the setting. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import { describeSettingValue } from '../../src/shared/redact';

const CLI = path.join(__dirname, '..', '..', 'bin', 'pipeline');

function error(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('has defaults that run the local backend against a local dev server', () => {
    const c = loadConfig({});
    expect(c.backend).toBe('local');
    expect(c.temporal).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'ecommerce-pipeline', tls: undefined });
    expect(c.local.lakeDir).toBe(path.resolve('data/lake'));
    expect(c.aws).toBeUndefined();
  });

  it('names the setting and the value in one line', () => {
    expect(error({ PIPELINE_BACKEND: 'gcp' })).toBe('PIPELINE_BACKEND: has "gcp"; expected local or aws');
    expect(error({ TEMPORAL_ADDRESS: 'localhost' })).toMatch(/^TEMPORAL_ADDRESS: has "localhost"; expected host:port/);
    expect(error({ PIPELINE_DUCKDB_THREADS: 'many' })).toMatch(/^PIPELINE_DUCKDB_THREADS: has "many"/);
    expect(error({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/x.pem' })).toMatch(/^TEMPORAL_TLS_CLIENT_KEY_PATH: is missing; .*go together/);
  });

  it('requires the aws settings only for the aws backend, and says which one is missing', () => {
    expect(error({ PIPELINE_BACKEND: 'aws' })).toMatch(/^AWS_REGION: is missing/);
    expect(error({ PIPELINE_BACKEND: 'aws', AWS_REGION: 'eu-west-1' })).toMatch(/^PIPELINE_S3_BUCKET: is missing/);
  });

  it("accepts only the Redshift Data API's ways to authenticate, naming the setting in one line", () => {
    const aws = { PIPELINE_BACKEND: 'aws', AWS_REGION: 'eu-west-1', PIPELINE_S3_BUCKET: 'pipeline-lake' };
    const secret = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift-etl-AbCdEf';
    const exactlyOne = 'set exactly one of PIPELINE_REDSHIFT_CLUSTER_ID (provisioned) or PIPELINE_REDSHIFT_WORKGROUP (serverless)';
    expect(error(aws)).toBe(`PIPELINE_REDSHIFT_CLUSTER_ID: is missing; ${exactlyOne}`);
    expect(error({ ...aws, PIPELINE_REDSHIFT_CLUSTER_ID: 'dw-1', PIPELINE_REDSHIFT_WORKGROUP: 'wg' })).toBe(
      `PIPELINE_REDSHIFT_CLUSTER_ID: has "dw-1"; ${exactlyOne}`,
    );
    // Serverless: a secret or the IAM identity; the Data API refuses a database user with a workgroup.
    expect(error({ ...aws, PIPELINE_REDSHIFT_WORKGROUP: 'wg', PIPELINE_REDSHIFT_DB_USER: 'etl' })).toBe(
      'PIPELINE_REDSHIFT_DB_USER: has "etl"; not allowed with PIPELINE_REDSHIFT_WORKGROUP (Redshift Serverless takes PIPELINE_REDSHIFT_SECRET_ARN, or neither to connect as the IAM identity)',
    );
    expect(
      error({ ...aws, PIPELINE_REDSHIFT_WORKGROUP: 'wg', PIPELINE_REDSHIFT_DB_USER: 'etl', PIPELINE_REDSHIFT_SECRET_ARN: secret }),
    ).toMatch(/^PIPELINE_REDSHIFT_DB_USER: has "etl"; not allowed with PIPELINE_REDSHIFT_WORKGROUP/);
    // A secret and a database user would be two credentials for one connection.
    expect(
      error({ ...aws, PIPELINE_REDSHIFT_CLUSTER_ID: 'dw-1', PIPELINE_REDSHIFT_DB_USER: 'etl', PIPELINE_REDSHIFT_SECRET_ARN: secret }),
    ).toBe('PIPELINE_REDSHIFT_DB_USER: has "etl"; set PIPELINE_REDSHIFT_DB_USER or PIPELINE_REDSHIFT_SECRET_ARN, not both');

    const redshift = (extra: Record<string, string>) => loadConfig({ ...aws, ...extra }).aws?.redshift;
    expect(redshift({ PIPELINE_REDSHIFT_CLUSTER_ID: 'dw-1', PIPELINE_REDSHIFT_DB_USER: 'etl' })).toMatchObject({
      clusterId: 'dw-1',
      dbUser: 'etl',
      secretArn: undefined,
    });
    expect(redshift({ PIPELINE_REDSHIFT_CLUSTER_ID: 'dw-1', PIPELINE_REDSHIFT_SECRET_ARN: secret })).toMatchObject({
      clusterId: 'dw-1',
      dbUser: undefined,
      secretArn: secret,
    });
    // A cluster without either connects as the IAM identity (redshift:GetClusterCredentialsWithIAM).
    expect(redshift({ PIPELINE_REDSHIFT_CLUSTER_ID: 'dw-1' })).toMatchObject({
      clusterId: 'dw-1',
      dbUser: undefined,
      secretArn: undefined,
    });
    expect(redshift({ PIPELINE_REDSHIFT_WORKGROUP: 'wg', PIPELINE_REDSHIFT_SECRET_ARN: secret })).toMatchObject({
      workgroup: 'wg',
      secretArn: secret,
    });
    expect(redshift({ PIPELINE_REDSHIFT_WORKGROUP: 'wg' })).toMatchObject({ workgroup: 'wg', dbUser: undefined, secretArn: undefined });
  });

  it('turns on TLS when an API key is given (Temporal Cloud)', () => {
    const c = loadConfig({ TEMPORAL_API_KEY: 'secret', TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233' });
    expect(c.temporal.tls).toBeDefined();
    expect(c.temporal.apiKey).toBe('secret');
  });

  describe('the webhook URL', () => {
    const PASSWORD = 's3cr3tPass';
    const TOKEN = 't0ken123';
    const noSecret = (message: string) => {
      expect(message).not.toContain(PASSWORD);
      expect(message).not.toContain(TOKEN);
      expect(message).not.toContain('\n');
    };

    it('must be http or https: a typo of the scheme is one line naming the setting, without the secret parts', () => {
      const message = error({ PIPELINE_WEBHOOK_URL: `htps://hookuser:${PASSWORD}@hooks.example.com/hook?token=${TOKEN}` });
      expect(message).toBe('PIPELINE_WEBHOOK_URL: has "htps://***@hooks.example.com/..."; expected an http:// or https:// URL');
      noSecret(message);
      expect(error({ PIPELINE_WEBHOOK_URL: 'ftp://hooks.example.com/x' })).toBe(
        'PIPELINE_WEBHOOK_URL: has "ftp://hooks.example.com/..."; expected an http:// or https:// URL',
      );
    });

    it('does not print the credentials, path or query of a malformed URL, nor a value that is no URL at all', () => {
      const malformed = error({ PIPELINE_WEBHOOK_URL: `http://hookuser:${PASSWORD}@[bad/hook?token=${TOKEN}` });
      expect(malformed).toMatch(/^PIPELINE_WEBHOOK_URL: has "http:\/\/\*\*\*@\[bad\/\.\.\."; expected an http:\/\/ or https:\/\/ URL$/);
      noSecret(malformed);
      const notUrl = error({ PIPELINE_WEBHOOK_URL: `${PASSWORD} ${TOKEN}` });
      expect(notUrl).toBe('PIPELINE_WEBHOOK_URL: has a value that is not a URL (not shown); expected an http:// or https:// URL');
      // Other URL settings are shown the same way.
      noSecret(
        error({
          PIPELINE_BACKEND: 'aws',
          AWS_REGION: 'eu-west-1',
          PIPELINE_S3_BUCKET: 'lake-b',
          PIPELINE_AWS_ENDPOINT_URL: `http://u:${PASSWORD}@[x?token=${TOKEN}`,
        }),
      );
    });

    it('accepts http and https, credentials included (the notifier sends them as basic authentication)', () => {
      const url = `https://hookuser:${PASSWORD}@hooks.example.com/hook?token=${TOKEN}`;
      expect(loadConfig({ PIPELINE_WEBHOOK_URL: url }).local.webhookUrl).toBe(url);
      expect(loadConfig({ PIPELINE_WEBHOOK_URL: 'http://127.0.0.1:9000/hook' }).local.webhookUrl).toBe('http://127.0.0.1:9000/hook');
    });

    it('the worker command prints the one line, without the secret, and exits 2', () => {
      const r = spawnSync(CLI, ['worker'], {
        env: { ...process.env, PIPELINE_WEBHOOK_URL: `htps://hookuser:${PASSWORD}@hooks.example.com/hook?token=${TOKEN}` },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status).toBe(2);
      expect(r.stderr.trim()).toBe(
        'pipeline: configuration error: PIPELINE_WEBHOOK_URL: has "htps://***@hooks.example.com/..."; expected an http:// or https:// URL',
      );
      noSecret(`${r.stdout}${r.stderr}`.trim());
    });
  });

  it('never shows the value of a secret setting', () => {
    expect(describeSettingValue('TEMPORAL_API_KEY', 'tk-abcdef123456')).toBe('has a value (not shown)');
  });

  it('the worker command prints one clean line and exits 2 on a bad setting', () => {
    const r = spawnSync(CLI, ['worker'], { env: { ...process.env, PIPELINE_BACKEND: 'gcp' }, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('pipeline: configuration error: PIPELINE_BACKEND: has "gcp"; expected local or aws');
  });
});
