import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TokiosError, renderError } from '@tokios/shared/errors';
import { protocolOf } from './protocol-of.js';
import { RateLimitError } from './quota/rate-limit-error.js';
import { REQUEST_ID_HEADER } from './request-id.js';

/** Sends a TokiosError in the caller's protocol shape, with the request id (every refusal, 404 and failure). */
export function sendError(request: FastifyRequest, reply: FastifyReply, err: TokiosError): FastifyReply {
  reply.header(REQUEST_ID_HEADER, request.id);
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  const protocol = protocolOf(request);
  const body = err instanceof RateLimitError ? err.body(protocol) : renderError(protocol, err);
  return reply.code(err.status).header('content-type', 'application/json').send(body);
}

/** Maps framework errors (body too large, bad content type, ...) to registry codes. */
function toTokiosError(err: FastifyError | Error): TokiosError {
  if (err instanceof TokiosError) return err;
  const code = (err as FastifyError).code;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TokiosError('body_too_large', 'The request body is over the size limit.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new TokiosError('unsupported_media_type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new TokiosError('invalid_json');
  }
  const status = (err as FastifyError).statusCode;
  if (status === 413) return new TokiosError('body_too_large');
  if (status && status >= 400 && status < 500) return new TokiosError('invalid_request', err.message);
  return new TokiosError('internal', 'Internal error.', { cause: err });
}

export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const te = toTokiosError(err as FastifyError);
    if (te.code === 'internal') request.log.error({ err: (err as Error).message, stack: (err as Error).stack }, 'unhandled error');
    return sendError(request, reply, te);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new TokiosError('route_not_found', `No route ${request.method} ${request.url.split('?')[0]}.`)),
  );
}
