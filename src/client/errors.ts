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
      if (code === GRPC.UNAVAILABLE || code === GRPC.DEADLINE_EXCEEDED || code === GRPC.RESOURCE_EXHAUSTED || code === GRPC.ABORTED)
        return true;
      if (code === GRPC.UNKNOWN || code === GRPC.INTERNAL || code === GRPC.CANCELLED)
        return CONNECTION_TEXT.test(`${details} ${e.message}`);
      return false;
    }
    if (typeof code === 'string' && /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|NOTFOUND|AI_AGAIN)$/.test(code)) return true;
  }
  return false;
}

/** What to do when no Temporal server answers (the dev server comes with the search attributes and the Web UI). */
export const START_SERVER_HINT = 'start one with `pipeline server` (a local dev server with the Web UI), or set TEMPORAL_ADDRESS to yours';

/** The command that adds the pipeline's search attributes to a namespace (idempotent). */
export const REGISTER_SEARCH_ATTRIBUTES_COMMAND = 'pipeline register-search-attributes';

/** The server the CLI talks to, remembered by connection.ts so a failure later on can name it. */
let serverTarget: { address: string; namespace: string } | undefined;

export function rememberServerTarget(target: { address: string; namespace: string }): void {
  serverTarget = target;
}

export function serverDownMessage(address: string, namespace: string, reason: string): string {
  return `no Temporal server answers at ${address} (namespace ${namespace}): ${reason}; ${START_SERVER_HINT}`;
}

const GRPC_INVALID_ARGUMENT = 3;
const GRPC_NOT_FOUND = 5;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNIMPLEMENTED = 12;
const GRPC_UNAUTHENTICATED = 16;

/** The first error in `err`'s cause chain for which `test` holds. */
function findInChain(err: unknown, test: (e: Error) => boolean): Error | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (test(e)) return e;
  }
  return undefined;
}

function grpcCode(e: Error): number | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' && typeof (e as { details?: unknown }).details === 'string' ? code : undefined;
}

/** The text of a gRPC failure without grpc-js's "3 INVALID_ARGUMENT: " prefix. */
function grpcText(e: Error): string {
  const details = (e as { details?: unknown }).details;
  return typeof details === 'string' && details ? details : e.message.replace(/^\d+ [A-Z_]+: /, '');
}

/** Multi-line server text on one line. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * One line for a failure an operator caused or can fix (a run or namespace that does not exist, a
 * run that is already closed, a server that is down, search attributes that are not registered, a
 * refused credential); undefined for anything else, which is a bug and keeps its stack.
 */
export function operatorMessage(err: unknown): string | undefined {
  const address = serverTarget?.address ?? 'the configured address';
  const namespace = serverTarget?.namespace ?? 'default';

  const notFound = findInChain(
    err,
    (e) =>
      e.name === 'WorkflowNotFoundError' ||
      (grpcCode(e) === GRPC_NOT_FOUND && /workflow/i.test(grpcText(e)) && !/namespace/i.test(grpcText(e))),
  );
  if (notFound) {
    const fields = notFound as Error & { workflowId?: string; runId?: string };
    const workflowId = fields.workflowId ?? /\b(?:workflow ?)?id:?\s+"?([^\s",]+)/i.exec(grpcText(notFound))?.[1];
    const runId = fields.runId;
    const which = `${workflowId ? `workflow ${workflowId}` : 'the workflow'}${runId ? ` (run ${runId})` : ''}`;
    if (/already completed/i.test(notFound.message)) {
      return `${which} is already closed and takes no signals; see \`pipeline status ${workflowId ?? '<target>'}\`, or start a new run with \`pipeline run --date <date>\``;
    }
    return `no ${which} in namespace ${namespace} at ${address}; a run is found by its date (\`pipeline status 2025-10-27\`) or its exact workflow id (\`daily-pipeline-2025-10-27\`)`;
  }

  const namespaceMissing = findInChain(
    err,
    (e) =>
      e.name === 'NamespaceNotFoundError' ||
      (grpcCode(e) === GRPC_NOT_FOUND && /namespace/i.test(grpcText(e))) ||
      // The worker's (Rust) connection: "Namespace x was not found or otherwise could not be described: Status {...}".
      (e.name === 'TransportError' && /^Namespace \S+ was not found/i.test(e.message)),
  );
  if (namespaceMissing) {
    const text =
      namespaceMissing.name === 'TransportError'
        ? namespaceMissing.message.replace(/:\s*Status \{[\s\S]*$/, '')
        : grpcText(namespaceMissing);
    return `namespace ${namespace} does not exist at ${address}: ${oneLine(text)}; set TEMPORAL_NAMESPACE to an existing one`;
  }

  const attribute = findInChain(
    err,
    (e) =>
      /search attribute/i.test(e.message) &&
      /no mapping defined|unknown|not (a )?valid|not (defined|registered|found)|invalid search attribute/i.test(e.message),
  );
  if (attribute) {
    const name =
      /search attribute:? ["']?(\w+)/i.exec(attribute.message)?.[1] ??
      /["'](\w+)["'] is not a valid search attribute/i.exec(attribute.message)?.[1];
    return (
      `namespace ${namespace} at ${address} lacks the pipeline's search attributes${name ? ` (${name} is not registered)` : ''}; ` +
      `register them with \`${REGISTER_SEARCH_ATTRIBUTES_COMMAND}\` (or start a local server that has them with \`pipeline server\`)`
    );
  }

  const denied = findInChain(err, (e) => grpcCode(e) === GRPC_PERMISSION_DENIED || grpcCode(e) === GRPC_UNAUTHENTICATED);
  if (denied) {
    return `Temporal at ${address} refused the call (${oneLine(grpcText(denied))}); check TEMPORAL_API_KEY or the TLS client certificate, and TEMPORAL_NAMESPACE`;
  }

  const notTemporal = findInChain(
    err,
    (e) => grpcCode(e) === GRPC_UNIMPLEMENTED && /HTTP status code|unexpected content-type/i.test(grpcText(e)),
  );
  if (notTemporal) {
    return (
      `what answers at ${address} is not a Temporal frontend (${oneLine(grpcText(notTemporal))}); ` +
      `check TEMPORAL_ADDRESS: the frontend's gRPC port (7233 for \`pipeline server\`), not the Web UI's (8233)`
    );
  }

  if (isConnectionError(err)) {
    const cause =
      findInChain(err, (e) => grpcCode(e) !== undefined || typeof (e as { code?: unknown }).code === 'string') ?? (err as Error);
    return serverDownMessage(address, namespace, oneLine(grpcCode(cause) !== undefined ? grpcText(cause) : cause.message));
  }

  const invalid = findInChain(err, (e) => grpcCode(e) === GRPC_INVALID_ARGUMENT);
  if (invalid) return `Temporal at ${address} refused the request: ${oneLine(grpcText(invalid))}`;
  return undefined;
}
