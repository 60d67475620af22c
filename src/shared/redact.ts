/**
 * The one place that keeps secrets out of what the pipeline prints or stores: log lines, notices,
 * errors, activity results (and so the workflow history, the status query and the CLI's output),
 * configuration errors. Two layers:
 *
 * - the secret parts of the configuration (a URL's password, or its user name when it has no
 *   password, its token-like query values, the whole URL, API keys) are registered when the
 *   configuration is read (config/env.ts) and every occurrence of them is replaced;
 * - patterns catch what looks like a credential whatever its origin: a URL's `user:password@`, query
 *   parameters named like `token`, `key`, `sig`, `signature`, `secret`, `password`, `auth...`, and
 *   `Bearer ...` / `Basic ...` values.
 *
 * Pure string work, no I/O: safe to call anywhere, including on every log line.
 */

export const REDACTED = '***';

/** Settings whose whole value is a secret: never shown, always redacted. */
export const SECRET_SETTINGS: ReadonlySet<string> = new Set(['TEMPORAL_API_KEY']);

/** Settings that are URLs and may carry credentials (user:password@, ?token=...). */
export const URL_SETTINGS: ReadonlySet<string> = new Set([
  'PIPELINE_WEBHOOK_URL',
  'PIPELINE_AWS_ENDPOINT_URL',
  'PIPELINE_WEB_UI_URL',
  'PIPELINE_EXTRACT_DATABASE_URL',
]);

/** URL settings whose whole value is a credential: a Slack-style webhook's path is its secret; a database URL is kept whole too. */
export const WHOLE_URL_SECRET_SETTINGS: ReadonlySet<string> = new Set(['PIPELINE_WEBHOOK_URL', 'PIPELINE_EXTRACT_DATABASE_URL']);

/** A query parameter (or fragment parameter) whose value is a credential. */
const SECRET_PARAM_NAME = /token|key|sig|secret|passw|pwd|credential|auth/i;

/** Shorter values are not registered: replacing every "ab" in the logs would hide more than secrets. */
const MIN_SECRET_LENGTH = 4;

const PATTERNS: [RegExp, string][] = [
  // scheme://user:password@host -> scheme://***@host (the last @ before the path ends the user info).
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#"'<>\\]+@/gi, `$1${REDACTED}@`],
  // ?token=..., &sig=..., #access_token=..., "api_key=..." in prose.
  [
    /((?:^|[?&#;\s,("':])[^\s=&?#;"'<>\\]*(?:token|key|sig|secret|passw|pwd|credential|auth)[^\s=&?#;"'<>\\]*=)[^\s&#;"'<>\\]+/gim,
    `$1${REDACTED}`,
  ],
  // Authorization header values.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${REDACTED}`],
];

const registered = new Set<string>();

function variants(secret: string): string[] {
  const out = new Set([secret]);
  out.add(encodeURIComponent(secret));
  out.add(JSON.stringify(secret).slice(1, -1));
  try {
    out.add(decodeURIComponent(secret));
  } catch {
    // Not percent-encoded: the value itself is enough.
  }
  return [...out].filter((v) => v.length >= MIN_SECRET_LENGTH);
}

/** Replaces every later occurrence of this value (and its URL- and JSON-encoded forms). */
export function registerSecret(value: string | undefined): void {
  if (!value) return;
  for (const v of variants(value)) registered.add(v);
}

/** Forgets the registered secrets (tests). */
export function clearRegisteredSecrets(): void {
  registered.clear();
}

/**
 * The secret parts of a URL: its password (or its user name when there is no password: a token
 * given as `https://TOKEN@host`) and the values of token-like query parameters; when it has any of
 * them, also the whole URL as given and as parsed; when `wholeUrlIsSecret` (a webhook, whose path is
 * often the credential), those and the URL without its user info (what is actually requested), even
 * with no credential in it. Also works on a URL that does not parse.
 */
export function urlSecrets(url: string | undefined, wholeUrlIsSecret = false): string[] {
  if (!url) return [];
  const parts: string[] = [];
  const whole: string[] = [url];
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed) {
    if (parsed.password) parts.push(parsed.password);
    else if (parsed.username) parts.push(parsed.username);
    for (const [name, value] of parsed.searchParams) if (SECRET_PARAM_NAME.test(name) && value) parts.push(value);
    whole.push(parsed.href);
    if (wholeUrlIsSecret) {
      const bare = new URL(parsed.href);
      bare.username = '';
      bare.password = '';
      whole.push(bare.href);
    }
  } else {
    const userInfo = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(url)?.[1];
    if (userInfo) {
      const colon = userInfo.indexOf(':');
      parts.push(colon >= 0 ? userInfo.slice(colon + 1) : userInfo);
    }
    for (const m of url.matchAll(/[?&#;]([^=&#;]*)=([^&#;]*)/g)) if (SECRET_PARAM_NAME.test(m[1]!) && m[2]) parts.push(m[2]);
  }
  const out = parts.length > 0 || wholeUrlIsSecret ? [...parts, ...whole] : parts;
  return out.filter((s) => s.length >= MIN_SECRET_LENGTH);
}

/** Registers the secret parts of a setting's value; called for every setting that is read. */
export function registerSettingSecrets(setting: string, value: string | undefined): void {
  if (!value) return;
  if (SECRET_SETTINGS.has(setting)) registerSecret(value);
  else if (URL_SETTINGS.has(setting)) for (const s of urlSecrets(value, WHOLE_URL_SECRET_SETTINGS.has(setting))) registerSecret(s);
}

function replaceAll(text: string, secret: string): string {
  return text.split(secret).join(REDACTED);
}

/**
 * The text with every registered secret, every secret in `extra` and everything that looks like a
 * credential replaced by `***`. JSON stays valid: nothing is replaced across a quote or a backslash.
 */
export function redact(text: string, extra: readonly string[] = []): string {
  let out = text;
  const known = [...registered, ...extra.flatMap(variants)].sort((a, b) => b.length - a.length);
  for (const secret of known) if (out.includes(secret)) out = replaceAll(out, secret);
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** An error's message, redacted: for messages, results and logs. */
export function redactError(err: unknown, extra: readonly string[] = []): string {
  const message = err instanceof Error ? err.message : String(err);
  return redact(message, extra);
}

/** Where a URL points, for labels (`webhook:<host>`): the host and port, never user info, path or query. */
export function urlHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid-url';
  }
}

/**
 * How a configuration value is shown in an error: `has "gcp"`. A secret setting's value is never
 * shown; a URL setting shows its scheme and host only (`has "htps://***@hooks.example.com/..."`),
 * as a path or query may be the credential itself (a Slack webhook's path is); anything else is
 * shown redacted.
 */
export function describeSettingValue(setting: string, value: string): string {
  if (SECRET_SETTINGS.has(setting)) return 'has a value (not shown)';
  if (URL_SETTINGS.has(setting)) {
    const m = /^([a-z][a-z0-9+.-]*:)(\/\/)?([^/?#]*)([\s\S]*)$/i.exec(value);
    if (!m?.[2]) return 'has a value that is not a URL (not shown)';
    const [, scheme, slashes = '', authority = '', rest = ''] = m;
    const at = authority.lastIndexOf('@');
    const host = at >= 0 ? `${REDACTED}@${authority.slice(at + 1)}` : authority;
    return `has ${JSON.stringify(redact(`${scheme}${slashes}${host}${rest ? '/...' : ''}`, urlSecrets(value)))}`;
  }
  return `has ${JSON.stringify(redact(value))}`;
}
