import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import type { CallerProtocol } from '@tokios/shared/protocol';
import { sessionKey } from '@tokios/shared/routing';
import type { FabricClient } from './fabric.js';
import type { IngressMetrics } from './metrics.js';
import type { IngressControlPlane } from './control-plane.js';
import { admit, type Admitted } from './admit.js';
import { RateLimitError } from './quota/rate-limit-error.js';
import { ProxiedCall } from './proxied-call.js';

export interface ProxyDeps {
  fabric: FabricClient;
  control: IngressControlPlane;
  metrics: IngressMetrics;
}

/** Caller headers the model side may need. */
const FORWARDED_HEADERS = ['anthropic-version', 'anthropic-beta'];
/** What a request without any of them forwards (shared: the fabric only reads it). */
const NO_FORWARDED_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

function forwardedHeaders(given: IncomingHttpHeaders): Record<string, string> {
  let out: Record<string, string> | undefined;
  for (const h of FORWARDED_HEADERS) {
    const v = given[h];
    if (typeof v === 'string') (out ??= {})[h] = v.slice(0, 1024);
  }
  return out ?? NO_FORWARDED_HEADERS;
}

/**
 * Authenticates, finds the deployment, checks the key's quota, sends the request down the fabric and relays
 * the answer: buffered for non-streamed calls, written through as it arrives for streamed ones (ProxiedCall). Every
 * request that got as far as a deployment leaves one usage record (in memory; written to the store off the hot path).
 * Synchronous when the key and route are cached (a store lookup makes it a promise); a refusal is thrown.
 */
export function proxyToDeployment(deps: ProxyDeps, protocol: CallerProtocol, request: FastifyRequest, reply: FastifyReply): void | Promise<void> {
  const started = Date.now();
  const a = admit(deps.control, deps.metrics, protocol, request);
  if (a instanceof Promise) return a.then((x) => proxyAdmitted(deps, protocol, request, reply, x, started));
  return proxyAdmitted(deps, protocol, request, reply, a, started);
}

function proxyAdmitted(deps: ProxyDeps, protocol: CallerProtocol, request: FastifyRequest, reply: FastifyReply, a: Admitted, started: number): void | Promise<void> {
  const { control, metrics } = deps;
  const exceeded = control.quota.check(a.caller.keyId, a.caller.limits);
  // Near a limit, while the replicas settle who admitted what (quota/sync-rounds.ts): check again once they have.
  if (exceeded instanceof Promise) return exceeded.then(() => proxyAdmitted(deps, protocol, request, reply, a, started));
  const pc = new ProxiedCall(deps, protocol, request, reply, a, started);
  if (exceeded) {
    pc.record(429, undefined, null);
    metrics.limited(exceeded.kind);
    metrics.refused(protocol, a.first.id, 429, 'rate_limited');
    throw new RateLimitError(exceeded, protocol, a.model, a.caller.keyId);
  }
  metrics.begin();

  // Cache-affine placement: the session's requests go where its prefix is cached (scoped: tenant and deployment).
  const session = deps.fabric.homes ? sessionKey(protocol, a.body, request.headers, `${a.caller.tenantId}/${a.first.id}`).key : '';
  pc.start(session, forwardedHeaders(request.headers));
}

/**
 * A proxied route's Fastify handler. Not async: the answer goes out on the raw response (ProxiedCall hijacks the
 * reply) or, for a refusal, through the app's error handler, never by a return value; so no promise per request
 * for Fastify to wait on. A refusal thrown at once Fastify catches itself; one after a store lookup is sent here.
 */
export function proxyHandler(deps: ProxyDeps, protocol: CallerProtocol): RouteHandlerMethod {
  return (request, reply) => {
    const pending = proxyToDeployment(deps, protocol, request, reply);
    if (pending) pending.catch((err: unknown) => reply.send(err));
  };
}
