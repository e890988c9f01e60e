import type { FastifyRequest } from 'fastify';
import type { CallerProtocol } from '@tokios/shared/protocol';
import { TokiosError } from '@tokios/shared/errors';
import type { CachedDeployment, CachedRoute } from './auth/auth-cache.js';
import { authenticate, resolveRoute, type Caller } from './auth.js';
import { parseJsonBody, routingFields } from './body.js';
import type { IngressMetrics } from './metrics.js';
import type { IngressControlPlane } from './control-plane.js';
import { placementOrder } from './routing/targets.js';

/** A request let in: who sends it, its routing fields, and the deployments to try. */
export interface Admitted {
  caller: Caller;
  model: string;
  stream: boolean;
  /** The deployment tried first (an alias's first choice in placement order). */
  first: CachedDeployment;
  /** Where the call may go, first choice first: one deployment, or an alias's targets in placement order. */
  targets: CachedDeployment[];
  aliasId: string | null;
  /** The body parsed once (the session key reads it); the raw bytes are what goes down the fabric. */
  body: Record<string, unknown>;
  raw: Buffer;
}

/** Counts a refusal (bad key, body or model, an alias with no usable target), then throws it on. */
function refused(metrics: IngressMetrics, protocol: CallerProtocol, err: unknown): never {
  if (err instanceof TokiosError) metrics.refused(protocol, undefined, err.status, err.code);
  throw err;
}

function admitted(caller: Caller, model: string, stream: boolean, route: CachedRoute, body: Record<string, unknown>, raw: Buffer): Admitted {
  const targets = placementOrder(route);
  const first = targets[0];
  if (!first) throw new TokiosError('no_tunnel', `The alias \`${model}\` has no deployment it may use.`);
  return { caller, model, stream, first, targets, aliasId: route.kind === 'alias' ? route.aliasId : null, body, raw };
}

function admitCaller(control: IngressControlPlane, request: FastifyRequest, caller: Caller): Admitted | Promise<Admitted> {
  const raw = request.body as Buffer;
  const body = parseJsonBody(raw);
  const { model, stream } = routingFields(body);
  const route = resolveRoute(control.auth, caller, model);
  return route instanceof Promise ? route.then((r) => admitted(caller, model, stream, r, body, raw)) : admitted(caller, model, stream, route, body, raw);
}

/**
 * The caller, the routing fields and the deployments to try (one, or an alias's targets in placement order); a
 * refusal is counted, then thrown (or rejected). When the key and the route are cached this is all synchronous: the
 * answer is returned as is, without a promise or a microtask turn per step; a store lookup returns a promise.
 */
export function admit(control: IngressControlPlane, metrics: IngressMetrics, protocol: CallerProtocol, request: FastifyRequest): Admitted | Promise<Admitted> {
  try {
    const caller = authenticate(request, control.auth);
    const a = caller instanceof Promise ? caller.then((c) => admitCaller(control, request, c)) : admitCaller(control, request, caller);
    return a instanceof Promise ? a.catch((err: unknown) => refused(metrics, protocol, err)) : a;
  } catch (err) {
    return refused(metrics, protocol, err);
  }
}
