import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { REQUEST_ID_PATTERN } from '@tokios/shared/protocol';

/** Every API answer carries the request id: the caller's own when it sent a valid one. */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * Fastify's genReqId: the caller's x-request-id when it matches REQUEST_ID_PATTERN, else a random prefix per process
 * and a counter (instead of 8 random bytes from the CSPRNG per request: randomBytes is a synchronous OpenSSL call,
 * plus a getpid syscall for fork safety, on every request). The id names the request in logs only; the fabric and
 * the usage records use ids of their own, since two callers may send the same one.
 */
export function requestIdGenerator(): (req: IncomingMessage) => string {
  const prefix = `req_${randomBytes(6).toString('hex')}`;
  let counter = 0;
  return (req) => {
    const given = req.headers[REQUEST_ID_HEADER];
    return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : `${prefix}${(++counter).toString(36).padStart(6, '0')}`;
  };
}
