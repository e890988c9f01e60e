import {
  MongoBulkWriteError, MongoError, MongoNetworkError, MongoNotConnectedError, MongoServerError,
  MongoServerSelectionError, MongoTopologyClosedError, MongoClientClosedError, MongoOperationTimeoutError,
} from 'mongodb';
import { StoreConflictError, StoreUnavailableError } from './errors.js';

/** Translating driver errors into store errors. Messages name the server (never credentials) and no values. */

export const DUPLICATE_KEY = 11000;

/** Server error codes that mean "cannot serve now / misconfigured access", not a bug in the request. */
const UNAVAILABLE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  13, // Unauthorized
  18, // AuthenticationFailed
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

export function isDuplicateKey(err: unknown): boolean {
  if (err instanceof MongoBulkWriteError) {
    const list = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
    return list.length > 0 && list.every((w) => w.code === DUPLICATE_KEY);
  }
  return err instanceof MongoServerError && err.code === DUPLICATE_KEY;
}

/** Fields of the unique index a duplicate-key error hit, e.g. `tenantId, name`. */
function duplicateFields(err: MongoServerError): string {
  const pattern: unknown = err.keyPattern ?? err.errorResponse?.keyPattern;
  if (pattern && typeof pattern === 'object') return Object.keys(pattern).join(', ');
  return 'a unique field';
}

/**
 * The store error for a driver error: duplicates become StoreConflictError, connection trouble, timeouts and
 * access failures StoreUnavailableError (with the cause attached); anything else is returned unchanged.
 * `server` is the redacted URL; `what` names the operation ("createDeployment").
 */
export function mapMongoError(err: unknown, server: string, what: string): unknown {
  if (isDuplicateKey(err)) {
    return new StoreConflictError(`${what}: duplicate ${duplicateFields(err as MongoServerError)}`, { cause: err });
  }
  if (
    err instanceof MongoServerSelectionError ||
    err instanceof MongoNetworkError ||
    err instanceof MongoOperationTimeoutError ||
    err instanceof MongoTopologyClosedError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoClientClosedError
  ) {
    return new StoreUnavailableError(`${what}: MongoDB at ${server} is unreachable (${err.name})`, { cause: err });
  }
  if (err instanceof MongoServerError && typeof err.code === 'number' && UNAVAILABLE_CODES.has(err.code)) {
    return new StoreUnavailableError(`${what}: MongoDB at ${server} refused the operation (${err.codeName ?? err.code})`, { cause: err });
  }
  if (err instanceof MongoError && (err.hasErrorLabel('RetryableWriteError') || err.hasErrorLabel('TransientTransactionError'))) {
    return new StoreUnavailableError(`${what}: MongoDB at ${server} had a transient failure (${err.name})`, { cause: err });
  }
  return err;
}
