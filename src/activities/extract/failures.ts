/**
 * Which source-database failures are worth retrying. The server being away, busy or restarting
 * (refused or reset connections, timeouts, too many connections, an administrator's shutdown) passes;
 * SQL that cannot run (a syntax error, a missing table or column, a permission, a bad cast) fails the
 * same way every time, so it fails at once with one line naming the entity and its source.
 */
import { ApplicationFailure } from '@temporalio/common';
import { redact } from '../../shared/redact';
import { accessDenied, badConfig, missingResource } from '../errors';

/** Retried by the activity's policy: the source is unreachable or overloaded for now. */
export const SOURCE_UNAVAILABLE = 'ExtractSourceUnavailable';

/** Node's socket errors that mean the server is not there (yet, or any more). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/**
 * SQLSTATE classes and codes that pass with time: 08 connection exception, 53 insufficient
 * resources (53300 too many connections), 57P01-57P03 shutdowns and a server not yet accepting
 * connections, 40001/40P01 serialization failure and deadlock, 57014 a cancelled statement.
 */
function transientSqlState(code: string): boolean {
  return code.startsWith('08') || code.startsWith('53') || code.startsWith('40') || ['57P01', '57P02', '57P03', '57014'].includes(code);
}

interface PgLikeError {
  code?: string;
  message?: string;
  hint?: string;
}

export function extractFailure(err: unknown, what: string, source: string): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const e = (err ?? {}) as PgLikeError;
  const code = typeof e.code === 'string' ? e.code : '';
  // A host name that resolves to several addresses fails with all their errors at once.
  const first = err instanceof AggregateError && err.errors.length ? (err.errors[0] as PgLikeError) : undefined;
  const text = redact(e.message || first?.message || String(err));
  const line = `${what}: ${text}${e.hint ? `; ${redact(e.hint)}` : ''} (${source})`.replace(/\s*\n\s*/g, ' ');
  if (/^[0-9A-Z]{5}$/.test(code) && !transientSqlState(code)) {
    if (code === '42501' || code.startsWith('28')) return accessDenied(line, { sqlState: code });
    if (code === '42P01' || code === '3D000') return missingResource(line, { sqlState: code });
    return badConfig(line, { sqlState: code });
  }
  const network = NETWORK_CODES.has(code) || /Connection terminated|timeout expired|connect ETIMEDOUT/i.test(text);
  return ApplicationFailure.create({
    type: SOURCE_UNAVAILABLE,
    message: network ? `${what}: the source database is unreachable: ${text} (${source})` : line,
    nonRetryable: false,
    details: code ? [{ sqlState: code }] : [],
  });
}
