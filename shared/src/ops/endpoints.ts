import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Metrics } from '../metrics/registry.js';
import type { Readiness } from './readiness.js';

/** The operations endpoints every tier serves (ingress and control on their port, terminator on its, connector optionally). */
export const OPS_PATHS = { healthz: '/healthz', readyz: '/readyz', metrics: '/metrics' } as const;

/** Environment of the operations endpoints (README "Services: environment"). */
export const opsEnvSchema = z.object({
  /** When set, GET /metrics needs `Authorization: Bearer <token>`: the ingress port is often public. */
  TOKIOS_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').max(512).optional(),
});

export interface OpsEndpoints {
  metrics: Metrics;
  readiness: Readiness;
  metricsToken?: string | undefined;
  /** Liveness body: the process answers, plus what identifies it. */
  health(): Record<string, unknown>;
}

export interface OpsAnswer {
  status: number;
  contentType: string;
  body: string;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time check of `Authorization: Bearer <token>` (no token configured: open). */
export function metricsAuthorized(authorization: string | undefined, token: string | undefined): boolean {
  if (token === undefined) return true;
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  return m !== null && timingSafeEqual(digest(m[1]!), digest(token));
}

const json = (status: number, body: unknown): OpsAnswer => ({ status, contentType: 'application/json', body: JSON.stringify(body) });

/**
 * The answer to an operations path, or undefined for any other path. /healthz is liveness only (200 while the
 * event loop runs); /readyz is 200 only when every dependency is up and the process is not draining, else 503 with
 * which one is down; /metrics is the Prometheus text format.
 */
export async function opsAnswer(o: OpsEndpoints, path: string, authorization: string | undefined): Promise<OpsAnswer | undefined> {
  switch (path) {
    case OPS_PATHS.healthz:
      return json(200, { ok: true, ...o.health() });
    case OPS_PATHS.readyz: {
      const r = await o.readiness.report();
      return json(r.ready ? 200 : 503, r);
    }
    case OPS_PATHS.metrics:
      if (!metricsAuthorized(authorization, o.metricsToken)) return json(401, { error: { code: 'unauthorized', message: 'GET /metrics needs Authorization: Bearer $TOKIOS_METRICS_TOKEN.' } });
      return { status: 200, contentType: o.metrics.contentType, body: await o.metrics.render() };
    default:
      return undefined;
  }
}

/** For plain node:http servers (terminator, connector): answers an operations path and returns true, else false. */
export function serveOps(o: OpsEndpoints, req: IncomingMessage, res: ServerResponse): boolean {
  const path = (req.url ?? '').split('?')[0] ?? '';
  if (req.method !== 'GET' || !(Object.values(OPS_PATHS) as string[]).includes(path)) return false;
  opsAnswer(o, path, req.headers.authorization).then(
    (a) => {
      if (!a) return;
      res.writeHead(a.status, { 'content-type': a.contentType, 'cache-control': 'no-store' }).end(a.body);
    },
    (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(err as Error).message}`),
  );
  return true;
}
