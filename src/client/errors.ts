/** A failure whose message says everything the user needs: printed as one line, no stack trace. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** gRPC status codes (from @grpc/grpc-js, which is not a direct dependency). */
const GRPC = { CANCELLED: 1, UNKNOWN: 2, DEADLINE_EXCEEDED: 4, RESOURCE_EXHAUSTED: 8, ABORTED: 10, INTERNAL: 13, UNAVAILABLE: 14 } as const;

/** What transport failures say when they carry no status code, or an ambiguous one (UNKNOWN, INTERNAL, CANCELLED). */
const CONNECTION_TEXT =
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|socket hang up|No connection established|Connection dropped|connection (closed|reset|refused)|GOAWAY|RST_STREAM|Call ended without gRPC status|stream (removed|closed)|shutting down|Failed to connect|transport is closing|context canceled|Call cancelled|EOF/i;

/**
 * True when `err` (or an error in its `cause` chain) says the Temporal server could not be reached
 * or dropped the call (server down, restarting or overloaded; a deadline passed), so the same call
 * may work a moment later. A workflow that does not exist, a failed run, a bad request or a refused
 * credential is not: those are the real answer.
 */
export function isConnectionError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    // A run that ended badly is an answer, whatever its failure's causes say.
    if (e.name === 'WorkflowFailedError') return false;
    const code = (e as { code?: unknown }).code;
    const details = (e as { details?: unknown }).details;
    if (typeof code === 'number' && typeof details === 'string') {
      // A gRPC status: decided by its code, whatever its message says.
      if (code === GRPC.UNAVAILABLE || code === GRPC.DEADLINE_EXCEEDED || code === GRPC.RESOURCE_EXHAUSTED || code === GRPC.ABORTED) return true;
      if (code === GRPC.UNKNOWN || code === GRPC.INTERNAL || code === GRPC.CANCELLED) return CONNECTION_TEXT.test(`${details} ${e.message}`);
      return false;
    }
    if (typeof code === 'string' && /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|NOTFOUND|AI_AGAIN)$/.test(code)) return true;
  }
  return false;
}
