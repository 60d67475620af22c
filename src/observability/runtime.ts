/**
 * The process-wide Temporal Runtime: logs through pino (SDK, workflow and activity lines, and Core's
 * own lines, forwarded), and, when an address is given, a Prometheus endpoint with the SDK's worker
 * metrics (task slots, poll latencies, workflow and activity outcomes...) at /metrics.
 * Call once, before the first connection or worker is created.
 */
import { Runtime } from '@temporalio/worker';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import type { LogLevel } from './logger';
import { createLogger, PinoTemporalLogger } from './logger';

export interface RuntimeSetup {
  logLevel: LogLevel;
  /** host:port for the Prometheus endpoint (PIPELINE_METRICS_ADDRESS); none when omitted. */
  metricsAddress?: string;
  destination?: DestinationStream;
}

export interface InstalledRuntime {
  runtime: Runtime;
  logger: PinoLogger;
  /** http://host:port/metrics, when metrics are on. */
  metricsUrl?: string;
}

type CoreLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** Core (Rust) is chatty below WARN; it follows the chosen level only when that is more severe. */
function coreLevel(level: LogLevel): CoreLevel {
  return level === 'error' ? 'ERROR' : 'WARN';
}

export function installRuntime(setup: RuntimeSetup): InstalledRuntime {
  const logger = createLogger({ level: setup.logLevel, destination: setup.destination });
  const runtime = Runtime.install({
    logger: new PinoTemporalLogger(logger),
    telemetryOptions: {
      logging: { filter: { core: coreLevel(setup.logLevel), other: 'ERROR' }, forward: {} },
      metrics: setup.metricsAddress
        ? { metricPrefix: 'temporal_', globalTags: { service: 'ecommerce-pipeline' }, prometheus: { bindAddress: setup.metricsAddress } }
        : undefined,
    },
  });
  return { runtime, logger, metricsUrl: setup.metricsAddress ? `http://${setup.metricsAddress}/metrics` : undefined };
}
