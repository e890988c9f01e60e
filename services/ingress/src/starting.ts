import type { IncomingMessage, ServerResponse } from 'node:http';
import { TokiosError, renderError } from '@tokios/shared/errors';
import { protocolOfPath } from './protocol-of.js';
import { REQUEST_ID_HEADER, requestIdGenerator } from './request-id.js';

const requestId = requestIdGenerator();

/**
 * The API's answer while the process is bound but has not joined NATS yet: `fabric_unavailable` (503, retry after
 * 1 s) in the caller's protocol shape, with a request id like every answer.
 */
export function ingressStartingAnswer(req: IncomingMessage, res: ServerResponse): void {
  const err = new TokiosError('fabric_unavailable', 'The gateway is starting: it has not joined its fabric (NATS) yet; retry shortly.');
  const body = JSON.stringify(renderError(protocolOfPath(req.url ?? '', req.headers), err));
  res.writeHead(err.status, { 'content-type': 'application/json', 'retry-after': '1', [REQUEST_ID_HEADER]: requestId(req) }).end(body);
}
