import { ControlError } from './errors.js';

/**
 * Who is asking. A tenant (console secret or dashboard session) sees only its own objects. The operator
 * (TOKIOS_ADMIN_TOKEN) sees every object, and acts as one tenant when it names it (`x-tokios-tenant`).
 */
export interface Scope {
  /** null: the operator without a tenant. */
  tenantId: string | null;
  via: 'operator' | 'console' | 'session' | 'local';
}

export const operatorScope = (tenantId: string | null = null, via: Scope['via'] = 'operator'): Scope => ({ tenantId, via });

/** True when the scope may see an object owned by `ownerTenantId`. */
export const canSee = (scope: Scope, ownerTenantId: string): boolean => scope.tenantId === null || scope.tenantId === ownerTenantId;

/** The tenant a create/list acts for; the operator must name one. */
export function tenantOf(scope: Scope): string {
  if (scope.tenantId !== null) return scope.tenantId;
  throw new ControlError('invalid_request', 'Name the tenant to act for (header x-tokios-tenant, or --tenant).', { field: 'header.x-tokios-tenant' });
}
