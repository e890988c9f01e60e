import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import type { CallerProtocol } from '@tokios/shared/protocol';
import { sessionKey } from '@tokios/shared/routing';
import type { FabricClient } from './fabric.js';
import type { IngressMetrics } from './metrics.js';
import type { IngressControlPlane } from './control-plane.js';
import { admit } from './admit.js';
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
 */
export async function proxyToDeployment(deps: ProxyDeps, protocol: CallerProtocol, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const started = Date.now();
  const { control, metrics } = deps;
  const a = await admit(control, metrics, protocol, request);
  const pc = new ProxiedCall(deps, protocol, request, reply, a, started);

  const exceeded = control.quota.check(a.caller.keyId, a.caller.limits);
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
  await pc.finished;
}
