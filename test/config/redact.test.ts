/** One redaction for everything printed or stored: config values' secrets never reach a log, notice or error. */
import { afterEach, describe, expect, it } from 'vitest';
import { formatNoticeText } from '../../src/activities/notify/format';
import type { Notice } from '../../src/activities/types';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/observability';
import { clearRegisteredSecrets, redact, registerSecret, urlSecrets } from '../../src/shared/redact';

afterEach(() => clearRegisteredSecrets());

describe('redact', () => {
  it('hides URL user info and token-like query values, whatever their origin', () => {
    expect(redact('POST http://hookuser:s3cr3tPass@127.0.0.1:9/hook?token=t0ken123&x=1 failed')).toBe(
      'POST http://***@127.0.0.1:9/hook?token=***&x=1 failed',
    );
    expect(redact('https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA1&X-Amz-Signature=ff00&versionId=3')).toBe(
      'https://b.s3.amazonaws.com/k?X-Amz-Credential=***&X-Amz-Signature=***&versionId=3',
    );
    expect(redact('u?key=k1;sig=s1&signature=s2&api_key=a1#access_token=t1')).toBe(
      'u?key=***;sig=***&signature=***&api_key=***#access_token=***',
    );
    expect(redact('Authorization: Bearer abcdefghijklmnop')).toBe('Authorization: Bearer ***');
    expect(redact('https://TOKEN1234@git.example.com/x.git')).toBe('https://***@git.example.com/x.git');
  });

  it('leaves ordinary text alone', () => {
    const text =
      'SUCCEEDED 2025-10-27 | load 1.2 s | http://127.0.0.1:8233/namespaces/default/workflows/daily-pipeline-2025-10-27/run-1/history';
    expect(redact(text)).toBe(text);
    expect(redact('notice key daily-2025/succeeded, 3 attempts')).toBe('notice key daily-2025/succeeded, 3 attempts');
  });

  it('replaces registered secrets and their URL- and JSON-encoded forms, and keeps JSON valid', () => {
    registerSecret('p@ss"wörd/1');
    const line = JSON.stringify({ msg: `login with p@ss"wörd/1 or ${encodeURIComponent('p@ss"wörd/1')}`, url: 'http://u:x@h/?token=a"b' });
    const out = redact(line);
    expect(out).not.toContain('wörd');
    expect(out).not.toContain(encodeURIComponent('wörd'));
    expect(JSON.parse(out)).toEqual({ msg: 'login with *** or ***', url: 'http://***@h/?token=***"b' });
  });

  it('finds the secret parts of a URL, even one that does not parse', () => {
    const url = 'http://hookuser:s3cr3tPass@127.0.0.1:9/hook?token=t0ken123&page=2';
    expect(urlSecrets(url)).toEqual(expect.arrayContaining(['s3cr3tPass', 't0ken123', url]));
    // The URL without its credentials is what a webhook request goes to: secret for a webhook only.
    expect(urlSecrets(url)).not.toContain('http://127.0.0.1:9/hook?token=t0ken123&page=2');
    expect(urlSecrets(url, true)).toContain('http://127.0.0.1:9/hook?token=t0ken123&page=2');
    expect(urlSecrets('http://hookuser:s3cr3tPass@[bad/hook?token=t0ken123')).toEqual(expect.arrayContaining(['s3cr3tPass', 't0ken123']));
    // A URL without credentials is no secret, unless the whole URL is one (a webhook's path may be its key).
    expect(urlSecrets('http://localhost:8233')).toEqual([]);
    expect(urlSecrets('https://hooks.slack.com/services/T0/B0/XyZ', true)).toContain('https://hooks.slack.com/services/T0/B0/XyZ');
  });

  it('knows the secrets of the configuration once it is read: the API key, the webhook URL, credentials in URLs', () => {
    loadConfig({
      TEMPORAL_API_KEY: 'tk-abcdef123456',
      PIPELINE_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/XyZsecret',
      PIPELINE_WEB_UI_URL: 'http://ui-user:uiPassw0rd@localhost:8233',
    });
    expect(redact('key tk-abcdef123456 sent')).toBe('key *** sent');
    expect(redact('POST https://hooks.slack.com/services/T0/B0/XyZsecret: 500')).toBe('POST ***: 500');
    expect(redact('password uiPassw0rd')).toBe('password ***');
    // The Web UI's address itself is no secret: run links stay readable.
    expect(redact('see http://localhost:8233/namespaces/default')).toBe('see http://localhost:8233/namespaces/default');
  });

  it('is applied to every log line the worker writes', () => {
    loadConfig({ PIPELINE_WEBHOOK_URL: 'http://hookuser:s3cr3tPass@127.0.0.1:9/hook?token=t0ken123', TEMPORAL_API_KEY: 'tk-abcdef123456' });
    let written = '';
    const logger = createLogger({ level: 'info', destination: { write: (s: string) => void (written += s) } });
    logger.warn(
      {
        error:
          'Request cannot be constructed from a URL that includes credentials: http://hookuser:s3cr3tPass@127.0.0.1:9/hook?token=t0ken123',
      },
      'api key tk-abcdef123456',
    );
    logger.error({ err: new Error('bad s3cr3tPass') }, 'failed');
    for (const secret of ['s3cr3tPass', 't0ken123', 'tk-abcdef123456']) expect(written).not.toContain(secret);
    const lines = written
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; error?: string });
    expect(lines[0]!.msg).toBe('api key ***');
    // The webhook URL is registered whole (a Slack hook's path is its key).
    expect(lines[0]!.error).toBe('Request cannot be constructed from a URL that includes credentials: ***');
  });

  it('is applied to every notice text, so SNS and the local channels never carry a configured secret', () => {
    registerSecret('s3cr3tPass');
    const notice: Notice = {
      key: 'k',
      kind: 'stage_failed',
      runDate: '2025-10-27',
      workflowId: 'wf',
      runId: 'r',
      namespace: 'default',
      subject: 'load failed',
      text: 'load failed: could not reach http://u:s3cr3tPass@db/x?sig=abc',
      stages: [{ stage: 'load', state: 'failed', attempts: 1, message: 'password s3cr3tPass refused' }],
    };
    const text = formatNoticeText(notice, 'http://localhost:8233');
    expect(text).not.toContain('s3cr3tPass');
    expect(text).not.toContain('sig=abc');
    expect(text).toContain('password *** refused');
  });
});
