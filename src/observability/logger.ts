/**
 * Structured logs: one JSON object per line on stdout, for `docker compose logs`, Loki, CloudWatch
 * and friends. Every line of a run carries workflowId, runDate and stage (see activity-log-fields.ts
 * and workflow-interceptors.ts), so `jq 'select(.runDate=="2025-10-27")'` shows one day's story.
 */
import pino from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import type { Logger as TemporalLogger, LogLevel as TemporalLogLevel, LogMetadata } from '@temporalio/common';
import { redact } from '../shared/redact';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; stdout when omitted (tests pass a stream to read them back). */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): PinoLogger {
  return pino(
    {
      level: options.level,
      base: { service: 'ecommerce-pipeline', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      // "level":"info" reads better in a terminal and in log search than pino's numbers.
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
      // The last line of defence: no line leaves with a configured secret or anything that looks like
      // a credential (URL user info, ?token=...), whoever logged it (SDK, Core, workflow, activity).
      hooks: { streamWrite: (line) => redact(line) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** Metadata keys the SDK adds that mean nothing to a reader (an opaque token of ~200 characters). */
const DROPPED_KEYS = new Set(['taskToken']);

/** String keys only: the SDK's timestamp travels under a symbol key, and pino stamps its own time. */
function plainMeta(meta: LogMetadata | undefined): Record<string, unknown> {
  if (!meta) return {};
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(meta)) {
    const value: unknown = meta[key];
    if (value !== undefined && !DROPPED_KEYS.has(key)) out[key] = value;
  }
  return out;
}

/**
 * The SDK's Logger interface over pino: workflow `log` (suppressed by the SDK during replay),
 * activity `Context.current().log`, the worker's own lines and, when forwarded, Core's.
 */
export class PinoTemporalLogger implements TemporalLogger {
  constructor(readonly pino: PinoLogger) {}

  log(level: TemporalLogLevel, message: string, meta?: LogMetadata): void {
    const fn = level.toLowerCase() as LogLevel;
    this.pino[fn](plainMeta(meta), message);
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }

  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }

  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }

  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }

  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}
