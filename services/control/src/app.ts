import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { NatsConnection } from 'nats';
import type { Logger } from '@tokios/shared/log';
import type { Store } from '@tokios/shared/store';
import { FabricKey } from '@tokios/shared/fabric-auth';
import { API_PREFIX, adminApi } from './api.js';
import { createAuthenticator } from './auth.js';
import { DASHBOARD_PREFIX, dashboard } from './dashboard.js';
import { ControlEventPublisher } from './events.js';
import { ControlOps } from './ops.js';
import { SessionSigner } from './session.js';
import { StatusService } from './status.js';
import { Metrics, watchNatsMetrics } from '@tokios/shared/metrics';
import { OPS_PATHS, NatsState, Readiness, opsAnswer, type OpsEndpoints } from '@tokios/shared/ops';
import { ControlError } from './errors.js';

export interface ControlDeps {
  store: Store;
  /** Without NATS, changes are not broadcast and live status is unknown. */
  nc: NatsConnection | undefined;
  adminToken: string;
  /** Signs control events (TOKIOS_FABRIC_SECRET); undefined → unsigned. */
  fabricSecret: string | undefined;
  log: Logger;
  statusWaitMs?: number;
  sessionTtlSeconds?: number;
  /** The process's registry (shared in `tokios dev`); a new one when absent. */
  metrics?: Metrics;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The standalone control server's readiness; shutdown marks it draining before closing the listener. */
    tokiosReadiness: Readiness;
  }
}

export interface ControlAppDeps extends ControlDeps {
  readiness?: Readiness;
  /** TOKIOS_METRICS_TOKEN: GET /metrics needs it as a bearer token when set. */
  metricsToken?: string | undefined;
  /** The HTTP server to serve on (one bound before NATS was joined: EarlyListener.fastifyServer); else a new one. */
  serverFactory?: (handler: RequestListener) => Server;
}

/**
 * The control plane as one encapsulated plugin: the admin API at /admin/v1 and the dashboard at /dashboard.
 * `tokios control` serves it alone; `tokios dev` mounts it on the dev server's one port.
 */
export const controlPlugin: FastifyPluginAsync<ControlDeps> = async (app, deps) => {
  const ops = new ControlOps(deps.store, new ControlEventPublisher(deps.nc, new FabricKey(deps.fabricSecret), deps.log));
  const sessions = SessionSigner.fromAdminToken(deps.adminToken, deps.sessionTtlSeconds ?? 12 * 3600);
  const metrics = deps.metrics ?? new Metrics();
  metrics.announce('control');
  if (deps.nc) watchNatsMetrics(metrics, deps.nc, 'control');
  const ctx = {
    ops,
    sessions,
    status: new StatusService(deps.nc, deps.statusWaitMs ?? 150, deps.log),
    auth: createAuthenticator(ops, deps.adminToken, sessions),
    requests: metrics.counter({
      name: 'tokios_control_requests_total',
      help: 'Admin API requests by method, route template (never the concrete path) and HTTP status.',
      labelNames: ['method', 'route', 'status'],
    }),
  };
  await app.register(adminApi, { prefix: API_PREFIX, ...ctx });
  await app.register(dashboard, { prefix: DASHBOARD_PREFIX });
};

/** How long a client may take to send one admin request (headers and body). */
export const CONTROL_RECEIVE_TIMEOUT_MS = 30_000;

/**
 * The control server's HTTP server. Admin requests are small and quick: slow-loris sockets are cut (408 after 30 s to
 * send a request, 2 min idle). Fastify passes no options to the server it makes (Node checks request timeouts every
 * 30 s by default).
 */
export function createControlServer(handler?: RequestListener): Server {
  const server = createServer({ requestTimeout: CONTROL_RECEIVE_TIMEOUT_MS, connectionsCheckingInterval: 5_000 }, handler);
  server.setTimeout(120_000);
  return server;
}

/** The admin API's answer while the process is bound but has not joined NATS yet. */
export function controlStartingAnswer(_req: IncomingMessage, res: ServerResponse): void {
  const err = new ControlError('fabric_unavailable');
  res.writeHead(err.status, { 'content-type': 'application/json', 'retry-after': '1', 'cache-control': 'no-store' }).end(JSON.stringify(err.body()));
}

/** A standalone control server (the `tokios control` process): ready when NATS and the store answer. */
export async function buildControlApp(deps: ControlAppDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => `req_${randomBytes(8).toString('hex')}`,
    return503OnClosing: true,
    serverFactory: deps.serverFactory ?? ((handler) => createControlServer(handler)),
  });
  const metrics = deps.metrics ?? new Metrics();
  const readiness = deps.readiness ?? new Readiness();
  readiness.add('store', () => deps.store.ping().then(() => true));
  if (deps.nc) {
    const nats = new NatsState(deps.nc);
    readiness.add('nats_control', () => nats.up);
  }
  const ops: OpsEndpoints = { metrics, readiness, metricsToken: deps.metricsToken, health: () => ({}) };
  for (const path of Object.values(OPS_PATHS)) {
    app.get(path, async (request, reply) => {
      const a = (await opsAnswer(ops, path, request.headers.authorization))!;
      return reply.code(a.status).header('content-type', a.contentType).header('cache-control', 'no-store').send(a.body);
    });
  }
  app.decorate('tokiosReadiness', readiness);
  app.get('/', async (_request, reply) => reply.redirect(DASHBOARD_PREFIX));
  await app.register(controlPlugin, { ...deps, metrics });
  return app;
}
