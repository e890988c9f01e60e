import { deploymentNameSchema, type Alias, type AliasMode, type Deployment, type Store } from '@tokios/shared/store';
import { ControlError, fromStoreError, notFound } from './errors.js';
import type { ControlEventPublisher } from './events.js';
import { canSee, tenantOf, type Scope } from './scope.js';

/** A target as the API takes it: the name a request would send as `model` (own, shared, or owner-qualified). */
export interface AliasTargetInput {
  deployment: string;
  weight?: number | undefined;
}

export interface AliasInput {
  mode?: AliasMode | undefined;
  targets: AliasTargetInput[];
}

/** An alias with its targets' deployments (null for one deleted or no longer shared). */
export interface AliasWithTargets {
  alias: Alias;
  deployments: (Deployment | null)[];
}

/**
 * Alias operations, scoped like every control operation (other tenants' aliases are "not found"), each one store
 * mutation then `alias_changed`. Targets are named as a caller names a model and resolved here within the tenant's
 * reach (own or shared deployments), so no name can reach across the tenant boundary; a name that is an alias (the
 * alias itself included) is refused: aliases target deployments only, so there are no chains and no cycles.
 */
export class AliasOps {
  constructor(
    private readonly store: Store,
    private readonly events: ControlEventPublisher,
  ) {}

  private async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw fromStoreError(err);
    }
  }

  async create(scope: Scope, name: string, input: AliasInput): Promise<AliasWithTargets> {
    const tenantId = tenantOf(scope);
    const checked = deploymentNameSchema.safeParse(name);
    if (!checked.success) throw new ControlError('invalid_request', `Invalid body.name: ${checked.error.issues[0]?.message ?? 'bad value'}.`, { field: 'body.name' });
    const targets = await this.resolveTargets(tenantId, name, input.targets);
    const alias = await this.run(() => this.store.createAlias({ tenantId, name, mode: input.mode, targets }));
    await this.events.publish('alias_changed', { aliasId: alias.id, tenantId });
    return this.withTargets(alias);
  }

  async list(scope: Scope): Promise<AliasWithTargets[]> {
    const tenantId = tenantOf(scope);
    const all = await this.run(() => this.store.listAliases(tenantId));
    return Promise.all(all.map((a) => this.withTargets(a)));
  }

  async get(scope: Scope, aliasId: string): Promise<AliasWithTargets> {
    return this.withTargets(await this.owned(scope, aliasId));
  }

  async update(scope: Scope, aliasId: string, input: AliasInput): Promise<AliasWithTargets> {
    const current = await this.owned(scope, aliasId);
    const targets = await this.resolveTargets(current.tenantId, current.name, input.targets);
    const alias = await this.run(() => this.store.updateAlias(aliasId, { mode: input.mode, targets }));
    if (!alias) throw notFound('alias', aliasId);
    await this.events.publish('alias_changed', { aliasId, tenantId: alias.tenantId });
    return this.withTargets(alias);
  }

  async delete(scope: Scope, aliasId: string): Promise<Alias> {
    await this.owned(scope, aliasId);
    const alias = await this.run(() => this.store.deleteAlias(aliasId));
    if (!alias) throw notFound('alias', aliasId);
    await this.events.publish('alias_changed', { aliasId, tenantId: alias.tenantId });
    return alias;
  }

  private async owned(scope: Scope, aliasId: string): Promise<Alias> {
    const a = await this.run(() => this.store.getAlias(aliasId));
    if (!a || !canSee(scope, a.tenantId)) throw notFound('alias', aliasId);
    return a;
  }

  private async resolveTargets(tenantId: string, aliasName: string, targets: AliasTargetInput[]): Promise<{ deploymentId: string; weight?: number }[]> {
    const out: { deploymentId: string; weight?: number }[] = [];
    for (const [i, t] of targets.entries()) {
      const field = `body.targets.${i}`;
      if (t.deployment === aliasName) throw new ControlError('invalid_request', `Invalid ${field}: an alias cannot be its own target.`, { field });
      const route = await this.run(() => this.store.resolveModel(tenantId, t.deployment));
      if (!route) throw new ControlError('invalid_request', `Invalid ${field}: no deployment \`${t.deployment}\` of this tenant or shared with it.`, { field });
      if (route.kind === 'alias') {
        throw new ControlError('invalid_request', `Invalid ${field}: \`${t.deployment}\` is an alias; targets must be deployments (no chains, no cycles).`, { field });
      }
      const id = route.deployment.id;
      if (out.some((x) => x.deploymentId === id)) throw new ControlError('invalid_request', `Invalid ${field}: \`${t.deployment}\` is already a target.`, { field });
      out.push({ deploymentId: id, ...(t.weight !== undefined && { weight: t.weight }) });
    }
    return out;
  }

  private async withTargets(alias: Alias): Promise<AliasWithTargets> {
    const deployments = await Promise.all(alias.targets.map((x) => this.run(() => this.store.getDeployment(x.deploymentId))));
    return { alias, deployments };
  }
}
