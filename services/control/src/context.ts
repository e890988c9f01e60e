import type { FastifyRequest } from 'fastify';
import type { Authenticator } from './auth.js';
import type { ControlOps } from './ops.js';
import type { Scope } from './scope.js';
import type { SessionSigner } from './session.js';
import type { StatusService } from './status.js';
import type { Counter } from '@tokios/shared/metrics';

/** What every route plugin of the admin API gets. */
export interface RouteContext {
  ops: ControlOps;
  status: StatusService;
  auth: Authenticator;
  sessions: SessionSigner;
  /** tokios_control_requests_total */
  requests: Counter<'method' | 'route' | 'status'>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the tenant-auth hook of the admin API. */
    controlScope: Scope | null;
  }
}

export function scopeOf(request: FastifyRequest): Scope {
  if (!request.controlScope) throw new Error('tenant route without the tenant-auth hook');
  return request.controlScope;
}
