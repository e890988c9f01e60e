import type { FastifyRequest } from 'fastify';
import type { CallerProtocol } from '@tokios/shared/protocol';
import { TokiosError } from '@tokios/shared/errors';
import type { CachedDeployment } from './auth/auth-cache.js';
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

/**
 * The caller, the routing fields and the deployments to try (one, or an alias's targets in placement order); a
 * refusal (bad key, body or model, an alias with no usable target) is counted, then thrown.
 */
export async function admit(control: IngressControlPlane, metrics: IngressMetrics, protocol: CallerProtocol, request: FastifyRequest): Promise<Admitted> {
  try {
    const caller = await authenticate(request, control.auth);
    const raw = request.body as Buffer;
    const body = parseJsonBody(raw);
    const { model, stream } = routingFields(body);
    const route = await resolveRoute(control.auth, caller, model);
    const targets = placementOrder(route);
    const first = targets[0];
    if (!first) throw new TokiosError('no_tunnel', `The alias \`${model}\` has no deployment it may use.`);
    return { caller, model, stream, first, targets, aliasId: route.kind === 'alias' ? route.aliasId : null, body, raw };
  } catch (err) {
    if (err instanceof TokiosError) metrics.refused(protocol, undefined, err.status, err.code);
    throw err;
  }
}
