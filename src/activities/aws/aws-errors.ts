/**
 * Turns AWS SDK errors into the project's failure classes. What an operator must fix (permissions,
 * a missing resource, a rejected request) fails fast and names the resource; throttling, 5xx and
 * network trouble stay plain errors so Temporal retries them with backoff.
 */
import type { ApplicationFailure } from '@temporalio/common';
import { accessDenied, badConfig, missingResource } from '../errors';

interface SdkErrorShape {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'AuthorizationError',
  'AuthorizationErrorException',
  'UnauthorizedOperation',
  'UnrecognizedClientException',
  'InvalidAccessKeyId',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'CredentialsProviderError',
]);

/** The error names AWS services give a resource that does not exist (also what `pipeline aws setup` reads as absent). */
export const NOT_FOUND_ERRORS: ReadonlySet<string> = new Set([
  'EntityNotFoundException',
  'CrawlerNotFoundException',
  'NoSuchBucket',
  'NoSuchKey',
  'NotFound',
  'NotFoundException',
  'ResourceNotFoundException',
  'ResourceNotFound',
]);

const REJECTED = new Set([
  'ValidationException',
  'InvalidInputException',
  'InvalidParameterException',
  'InvalidParameterValueException',
  'InvalidRequestException',
  'InvalidArgument',
  'IllegalLocationConstraintException',
  'DatabaseConnectionException',
]);

/** Athena and SNS report a missing workgroup or topic as a rejected request, saying so in the message. */
export const NOT_FOUND_MESSAGE = /not (be )?found|does not exist/i;

/** Errors that look like a rejected request but only mean "try again later". */
const TRANSIENT = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerException',
  'InternalServiceException',
  'InternalFailure',
  'OperationTimeoutException',
  'ConcurrentModificationException',
  'ConcurrentRunsExceededException',
  'ActiveStatementsExceededException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

export function awsErrorName(err: unknown): string {
  const e = (err ?? {}) as SdkErrorShape;
  return e.name ?? e.Code ?? e.code ?? 'Error';
}

function describe(err: unknown): string {
  const e = (err ?? {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  const msg = (e.message ?? String(err)).replace(/\s+/g, ' ').trim();
  return `${awsErrorName(err)}${status ? ` (HTTP ${status})` : ''}: ${msg || 'no message'}`;
}

/** Plain errors are retried by the activity's retry policy; ApplicationFailures here are not. */
export function classifyAwsError(err: unknown, resource: string, action: string): ApplicationFailure | Error {
  const name = awsErrorName(err);
  const e = (err ?? {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  const text = `${action} on ${resource} failed: ${describe(err)}`;
  if (TRANSIENT.has(name) || e.$fault === 'server' || (status !== undefined && status >= 500)) return new Error(text);
  if (ACCESS_DENIED.has(name) || status === 403) return accessDenied(text);
  if (NOT_FOUND_ERRORS.has(name) || status === 404) return missingResource(text);
  if (NOT_FOUND_MESSAGE.test(e.message ?? '')) return missingResource(text);
  if (REJECTED.has(name)) return badConfig(text);
  return new Error(text);
}

/** Runs one AWS call; a failure comes back classified and naming `resource`. */
export async function awsCall<T>(resource: string, action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw classifyAwsError(err, resource, action);
  }
}
