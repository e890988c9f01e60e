import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Logger } from '@tokios/shared/log';
import type { Store } from '@tokios/shared/store';
import type { FabricClient } from './fabric.js';
import type { IngressOptions } from './config.js';
import { registerErrorHandlers } from './errors.js';
import { openaiChatRoutes } from './routes/openai-chat.js';
import { openaiResponsesRoutes } from './routes/openai-responses.js';
import { openaiLegacyRoutes } from './routes/openai-legacy.js';
import { anthropicMessagesRoutes } from './routes/anthropic-messages.js';
import { modelsRoutes } from './routes/models.js';
import { IngressControlPlane, defaultControlPlaneOptions } from './control-plane.js';
import { Metrics, watchNatsMetrics } from '@tokios/shared/metrics';
import { OPS_PATHS, Readiness, opsAnswer, type OpsEndpoints } from '@tokios/shared/ops';
import { IngressMetrics } from './metrics.js';
import { REQUEST_ID_HEADER, requestIdGenerator } from './request-id.js';
import { requestLoggerFactory } from './request-logger.js';

export interface IngressDeps {
  fabric: FabricClient;
  store: Store;
  log: Logger;
  options: IngressOptions;
  /** The process's registry (shared with the other tiers in `tokios dev`); a new one when absent. */
  metrics?: Metrics;
  /** The process's readiness (the ingress adds its NATS check); a new one when absent. */
  readiness?: Readiness;
  /** TOKIOS_METRICS_TOKEN: GET /metrics needs it as a bearer token when set. */
  metricsToken?: string | undefined;
  /** The HTTP server to serve on (one bound before NATS was joined: EarlyListener.fastifyServer); else a new one. */
  serverFactory?: (handler: RequestListener) => Server;
}

declare module 'fastify' {
  interface FastifyInstance {
    tokiosControl: IngressControlPlane;
    tokiosReadiness: Readiness;
  }
}

/**
 * The HTTP server, with slow-loris bounds: a request must arrive whole (headers and body) within receiveTimeoutMs, or
 * it gets 408 and the socket is closed, checked often enough to matter (Node checks every 30 s by default, and
 * Fastify passes no server options through). A socket may be silent while a whole answer is generated, so its idle
 * cap is the request cap plus that.
 */
export function createIngressServer(o: IngressOptions, handler?: RequestListener): Server {
  const server = createServer(
    { requestTimeout: o.receiveTimeoutMs, connectionsCheckingInterval: Math.max(250, Math.min(30_000, Math.floor(o.receiveTimeoutMs / 4))) },
    handler,
  );
  server.keepAliveTimeout = 65_000;
  server.setTimeout(o.requestTimeoutMs + o.receiveTimeoutMs);
  return server;
}

/** The public API: one plugin per API surface, each mounted under /v1 and at the root. */
export async function buildIngressApp(deps: IngressDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    // No loggerInstance: with one, Fastify adds two response listeners, a closure and two clock reads to every
    // request, for its request-completed line, which this app turns off. request.log is ours all the same
    // (requestLoggerFactory); Fastify's own app-level lines (its "Server listening at", which the ingress's
    // "ingress listening" says too, and a failing close hook, logged below) have no logger.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.options.maxBodyBytes,
    requestIdHeader: false,
    genReqId: requestIdGenerator(),
    childLoggerFactory: requestLoggerFactory(deps.log),
    return503OnClosing: true,
    keepAliveTimeout: 65_000,
    serverFactory: deps.serverFactory ?? ((handler) => createIngressServer(deps.options, handler)),
  });
  // Bodies stay raw: the ingress reads only routing fields and forwards the bytes untouched.
  app.removeAllContentTypeParsers();
  const raw = { parseAs: 'buffer', bodyLimit: deps.options.maxBodyBytes } as const;
  const keepRaw = (_req: unknown, body: Buffer, done: (err: null, body: Buffer) => void): void => done(null, body);
  // application/json by name as well as '*': Fastify caches the parser it finds for a content type by name, but not
  // its catch-all, so a JSON request would parse its content-type header into a ContentType (a regex and a Map) on
  // every request.
  app.addContentTypeParser('application/json', raw, keepRaw);
  app.addContentTypeParser('*', raw, keepRaw);
  // Every answer carries the request id, set where it is built (proxy.ts, sendError, the models and ops routes)
  // rather than in an onSend hook, which costs Fastify a hook-runner pass per answer.
  registerErrorHandlers(app);

  const control = new IngressControlPlane({ nc: deps.fabric.nc, store: deps.store, log: deps.log, replicaId: deps.fabric.id, options: deps.options.controlPlane ?? defaultControlPlaneOptions(), fabricSecret: deps.options.fabricSecret });
  control.start();
  // Runs before the caller closes NATS and the store: the last quota counts and usage records get out.
  app.addHook('onClose', async () => {
    // Fastify would log a failing hook through its own logger, which writes nothing here (see above).
    await control.close().catch((err: unknown) => deps.log.error({ err: err instanceof Error ? err.message : String(err) }, 'ingress control plane close failed'));
  });
  app.decorate('tokiosControl', control);

  const metrics = deps.metrics ?? new Metrics();
  metrics.announce('ingress', deps.fabric.id);
  watchNatsMetrics(metrics, deps.fabric.nc, 'ingress');
  const ingressMetrics = new IngressMetrics(metrics, control.usage, undefined, deps.fabric.homes);
  deps.fabric.observer = ingressMetrics;
  const readiness = (deps.readiness ?? new Readiness()).add('nats_ingress', () => deps.fabric.connected);
  app.decorate('tokiosReadiness', readiness);
  registerOpsRoutes(app, {
    metrics,
    readiness,
    metricsToken: deps.metricsToken,
    health: () => ({ ingressId: deps.fabric.id, inFlight: deps.fabric.inFlight }),
  });
  const proxy = { fabric: deps.fabric, control, metrics: ingressMetrics };
  // SDK base URLs: OpenAI's include /v1 (or not, OPENAI_BASE_URL style); Anthropic's SDK appends /v1 itself,
  // so a base URL that already ends in /v1 yields /v1/v1/messages.
  for (const prefix of ['/v1', '']) {
    await app.register(openaiChatRoutes, { prefix, ...proxy });
    await app.register(openaiResponsesRoutes, { prefix, ...proxy });
    await app.register(openaiLegacyRoutes, { prefix, ...proxy });
    await app.register(modelsRoutes, { prefix, store: deps.store, nc: deps.fabric.nc, control });
  }
  for (const prefix of ['/v1', '', '/v1/v1']) await app.register(anthropicMessagesRoutes, { prefix, ...proxy });
  return app;
}

/** /healthz, /readyz and /metrics on a Fastify app (the answers themselves: shared/src/ops). */
export function registerOpsRoutes(app: FastifyInstance, ops: OpsEndpoints): void {
  for (const path of Object.values(OPS_PATHS)) {
    app.get(path, async (request, reply) => {
      reply.header(REQUEST_ID_HEADER, request.id);
      const a = await opsAnswer(ops, path, request.headers.authorization);
      if (!a) return reply.callNotFound();
      return reply.code(a.status).header('content-type', a.contentType).header('cache-control', 'no-store').send(a.body);
    });
  }
}
