import { parseArgs } from 'node:util';
import { z } from 'zod';
import { openStore, storeEnvSchema, StoreConflictError, StoreNotFoundError, StoreValidationError, type Store } from '@tokios/shared/store';
import { parseEnv } from '@tokios/shared/config';
import { publishControlEvents, type PendingEvent } from './control-events.js';

export const ADMIN_USAGE = `tokios admin <resource> <action> [options]   (add --json for machine-readable output)

  tenant create --name NAME
  tenant list
  key create --tenant TENANT_ID [--name NAME]        prints the API key once
  key list --tenant TENANT_ID
  key revoke KEY_ID
  deployment create --tenant TENANT_ID --name MODEL_NAME
  deployment list --tenant TENANT_ID
  token create --deployment DEPLOYMENT_ID            prints the tunnel token once
  token list --deployment DEPLOYMENT_ID
  token revoke TOKEN_ID

Store: TOKIOS_DATA_DIR (default ./.tokios).`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const need = (v: string | undefined, flag: string): string => {
  if (!v) throw new UsageError(`missing --${flag}`);
  return v;
};

type Out = { json: unknown; text: string; events?: PendingEvent[] };

async function dispatch(store: Store, resource: string, action: string, positional: string[], o: Record<string, string | undefined>): Promise<Out> {
  const key = `${resource} ${action}`;
  switch (key) {
    case 'tenant create': {
      const t = await store.createTenant({ name: need(o.name, 'name') });
      return { json: t, text: `tenant ${t.id} (${t.name}) created` };
    }
    case 'tenant list': {
      const list = await store.listTenants();
      return { json: list, text: list.map((t) => `${t.id}  ${t.name}`).join('\n') || '(no tenants)' };
    }
    case 'key create': {
      const { record, secret } = await store.createApiKey({ tenantId: need(o.tenant, 'tenant'), name: o.name ?? 'default' });
      return { json: { ...record, secret }, text: `API key ${record.id} created. Copy it now, it is not shown again:\n\n  ${secret}\n` };
    }
    case 'key list': {
      const list = await store.listApiKeys(need(o.tenant, 'tenant'));
      return { json: list, text: list.map((k) => `${k.id}  ${k.prefix}…  ${k.name}${k.revokedAt ? '  (revoked)' : ''}`).join('\n') || '(no keys)' };
    }
    case 'key revoke': {
      const k = await store.revokeApiKey(need(positional[0], 'KEY_ID'));
      if (!k) throw new StoreNotFoundError(`no key ${positional[0]}`);
      return { json: k, text: `key ${k.id} revoked`, events: [{ name: 'key_revoked', event: { keyId: k.id, hash: k.hash } }] };
    }
    case 'deployment create': {
      const d = await store.createDeployment({ tenantId: need(o.tenant, 'tenant'), name: need(o.name, 'name') });
      return {
        json: d,
        text: `deployment ${d.id} created; clients use "model": "${d.name}"`,
        events: [{ name: 'deployment_changed', event: { deploymentId: d.id, tenantId: d.tenantId } }],
      };
    }
    case 'deployment list': {
      const list = await store.listDeployments(need(o.tenant, 'tenant'));
      return { json: list, text: list.map((d) => `${d.id}  ${d.name}`).join('\n') || '(no deployments)' };
    }
    case 'token create': {
      const { record, secret } = await store.createTunnelToken({ deploymentId: need(o.deployment, 'deployment') });
      return { json: { ...record, secret }, text: `tunnel token ${record.id} created. Put it in tokios.json as "tunnel_token"; it is not shown again:\n\n  ${secret}\n` };
    }
    case 'token list': {
      const list = await store.listTunnelTokens(need(o.deployment, 'deployment'));
      return { json: list, text: list.map((t) => `${t.id}  ${t.prefix}…${t.revokedAt ? '  (revoked)' : ''}`).join('\n') || '(no tokens)' };
    }
    case 'token revoke': {
      const t = await store.revokeTunnelToken(need(positional[0], 'TOKEN_ID'));
      if (!t) throw new StoreNotFoundError(`no token ${positional[0]}`);
      return { json: t, text: `token ${t.id} revoked`, events: [{ name: 'token_revoked', event: { tokenId: t.id, deploymentId: t.deploymentId } }] };
    }
    default:
      throw new UsageError(`unknown command: admin ${key}`);
  }
}

/** Runs `tokios admin …`; returns the process exit code. */
export async function runAdmin(argv: string[], env: NodeJS.ProcessEnv = process.env, out = process.stdout, err = process.stderr): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        name: { type: 'string' }, tenant: { type: 'string' }, deployment: { type: 'string' },
        json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    err.write(`${(e as Error).message}\n\n${ADMIN_USAGE}\n`);
    return 2;
  }
  const [resource, action, ...positional] = parsed.positionals;
  if (parsed.values.help || !resource || !action) {
    (parsed.values.help ? out : err).write(`${ADMIN_USAGE}\n`);
    return parsed.values.help ? 0 : 2;
  }
  const storeEnv = parseEnv(storeEnvSchema, env);
  const store = await openStore(storeEnv);
  try {
    const result = await dispatch(store, resource, action, positional, parsed.values as Record<string, string | undefined>);
    out.write(parsed.values.json ? `${JSON.stringify(result.json, null, 2)}\n` : `${result.text}\n`);
    if (result.events) {
      const where = await publishControlEvents(result.events, env.NATS_URL, storeEnv.TOKIOS_DATA_DIR);
      if (!where && result.events.some((e) => e.name !== 'deployment_changed')) {
        err.write('note: no NATS answered, so running gateways apply this within their cache lifetime (30 s) instead of at once\n');
      }
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`${e.message}\n\n${ADMIN_USAGE}\n`);
      return 2;
    }
    if (e instanceof StoreConflictError || e instanceof StoreNotFoundError || e instanceof StoreValidationError || e instanceof z.ZodError) {
      err.write(`error: ${e instanceof z.ZodError ? e.issues.map((i) => i.message).join('; ') : e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    await store.close();
  }
}
