import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import type { Logger } from '@tokios/shared/log';
import type { Store } from '@tokios/shared/store';
import type { FabricClient } from './fabric.js';
import type { IngressOptions } from './config.js';
import { registerErrorHandlers } from './errors.js';
import { openaiChatRoutes } from './routes/openai-chat.js';
import { IngressControlPlane, defaultControlPlaneOptions } from './control-plane.js';

export interface IngressDeps {
  fabric: FabricClient;
  store: Store;
  log: Logger;
  options: IngressOptions;
}

declare module 'fastify' {
  interface FastifyInstance {
    tokiosControl: IngressControlPlane;
  }
}

/** The public API: one plugin per API surface, each mounted under /v1 and at the root. */
export async function buildIngressApp(deps: IngressDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    disableRequestLogging: true,
    bodyLimit: deps.options.maxBodyBytes,
    genReqId: () => `req_${randomBytes(8).toString('hex')}`,
    return503OnClosing: true,
    keepAliveTimeout: 65_000,
  });
  // Bodies stay raw: the ingress reads only routing fields and forwards the bytes untouched.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.options.maxBodyBytes }, (_req, body, done) => done(null, body));
  registerErrorHandlers(app);

  const control = new IngressControlPlane({ nc: deps.fabric.nc, store: deps.store, log: deps.log, replicaId: deps.fabric.id, options: deps.options.controlPlane ?? defaultControlPlaneOptions() });
  control.start();
  // Runs before the caller closes NATS and the store: the last quota counts and usage records get out.
  app.addHook('onClose', async () => control.close());
  app.decorate('tokiosControl', control);

  app.get('/healthz', async () => ({ ok: true, ingressId: deps.fabric.id, inFlight: deps.fabric.inFlight }));
  for (const prefix of ['/v1', '']) {
    await app.register(openaiChatRoutes, { prefix, fabric: deps.fabric, control });
  }
  return app;
}
