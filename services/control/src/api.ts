import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ControlError, fromStoreError } from './errors.js';
import { zodValidatorCompiler } from './validation.js';
import type { RouteContext } from './context.js';
import { sessionRoutes } from './routes/session.js';
import { tenantRoutes } from './routes/tenants.js';
import { keyRoutes } from './routes/keys.js';
import { deploymentRoutes } from './routes/deployments.js';
import { sharingRoutes } from './routes/sharing.js';
import { usageRoutes } from './routes/usage.js';
import { aliasRoutes } from './routes/aliases.js';

export const API_PREFIX = '/admin/v1';
const MAX_BODY_BYTES = 64 * 1024;

/** Framework and store errors → one stable body `{ error: { code, message, field } }`. */
export function toControlError(err: unknown): ControlError {
  const mapped = fromStoreError(err);
  if (mapped instanceof ControlError) return mapped;
  const code = (err as FastifyError).code;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ControlError('body_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ControlError('unsupported_media_type', undefined, { field: 'header.content-type' });
  }
  const status = (err as FastifyError).statusCode;
  if (status === 413) return new ControlError('body_too_large');
  if (status && status >= 400 && status < 500) return new ControlError('invalid_request', (err as Error).message);
  return new ControlError('internal', undefined, { cause: err });
}

/** The admin API under /admin/v1: JSON only, zod schemas on every route, one error shape. */
export const adminApi: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  app.setValidatorCompiler(zodValidatorCompiler);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new ControlError('invalid_json', undefined, { field: 'body' }), undefined);
    }
  });
  app.decorateRequest('controlScope', null);
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });
  app.addHook('onResponse', async (request, reply) => {
    ctx.requests.inc({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
    request.log.info({ method: request.method, route: request.routeOptions.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'admin api');
  });
  app.setErrorHandler((err, request, reply) => {
    const ce = toControlError(err);
    if (ce.code === 'internal') request.log.error({ err: (err as Error).message, stack: (err as Error).stack }, 'admin api error');
    return reply.code(ce.status).header('content-type', 'application/json').send(ce.body());
  });
  app.setNotFoundHandler((request, reply) => {
    const ce = new ControlError('route_not_found', `No route ${request.method} ${request.url.split('?')[0]}.`);
    return reply.code(404).send(ce.body());
  });

  const tenantAuth = async (request: FastifyRequest): Promise<void> => {
    request.controlScope = await ctx.auth.tenant(request);
  };

  sessionRoutes(app, ctx, tenantAuth);
  await app.register(async (operator: FastifyInstance) => tenantRoutes(operator, ctx));
  await app.register(async (tenant: FastifyInstance) => {
    tenant.addHook('onRequest', tenantAuth);
    keyRoutes(tenant, ctx);
    deploymentRoutes(tenant, ctx);
    aliasRoutes(tenant, ctx);
    sharingRoutes(tenant, ctx);
    usageRoutes(tenant, ctx);
  });
};
