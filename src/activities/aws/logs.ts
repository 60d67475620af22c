/**
 * The last lines a Glue job run wrote to its error log, for the failure message an operator reads in
 * the status, the notice and the Web UI. Best effort: a log that is missing, not yet flushed or not
 * readable with the worker's permissions leaves the message as it was, it never fails the state read.
 */
import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';

/**
 * Glue writes a run's driver errors to `<LogGroupName>/error`, in a stream named after the run id
 * (Glue 4.0) or the run id and `-driver` (continuous logging, the default from Glue 5.0).
 */
export const GLUE_DEFAULT_LOG_GROUP = '/aws-glue/jobs';

export interface LogTail {
  group: string;
  stream: string;
  lines: string[];
}

/** Up to `limit` trailing non-blank lines of one stream; undefined when they cannot be read. */
export async function tailLogStream(logs: CloudWatchLogsClient, group: string, stream: string, limit = 10): Promise<LogTail | undefined> {
  try {
    const out = await logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, limit, startFromHead: false }));
    const lines = (out.events ?? [])
      .map((e) => (e.message ?? '').trimEnd())
      .filter((l) => l.trim() !== '')
      .slice(-limit);
    return { group, stream, lines };
  } catch {
    return undefined;
  }
}

/** The error-log tail of a Glue job run, formatted to append to its failure message. */
export async function glueRunErrorTail(
  logs: CloudWatchLogsClient,
  logGroupName: string | undefined,
  runId: string,
  limit = 10,
): Promise<string> {
  const group = `${logGroupName ?? GLUE_DEFAULT_LOG_GROUP}/error`;
  for (const stream of [runId, `${runId}-driver`]) {
    const tail = await tailLogStream(logs, group, stream, limit);
    if (tail && tail.lines.length > 0)
      return `\nlast ${tail.lines.length} line(s) of ${group}/${stream}:\n${tail.lines.map((l) => `  ${l}`).join('\n')}`;
  }
  return ` (logs: ${group}/${runId})`;
}
