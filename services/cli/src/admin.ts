import { parseArgs } from 'node:util';
import { StoreUnavailableError } from '@tokios/shared/store';
import { ConfigError } from '@tokios/shared/config';
import { ControlError } from '@tokios/control';
import type { AdminBackend } from './admin-backend.js';
import { AdminApiError } from './admin-api-client.js';
import { NEEDS_NATS, dispatch } from './admin-commands.js';
import { openBackend, type TextSink } from './admin-connect.js';
import { UsageError } from './admin-options.js';
import { AdminStoreError } from './admin-store.js';

export type { TextSink } from './admin-connect.js';

export const ADMIN_USAGE = `tokios admin <resource> <action> [options]   (add --json for machine-readable output)

  tenant create --name NAME
  tenant list
  tenant console-secret TENANT_ID                   prints the dashboard login secret once (rotates it)
  key create --tenant TENANT_ID [--name NAME] [--rpm N] [--tpm N]   prints the API key once
  key list --tenant TENANT_ID
  key revoke KEY_ID
  key limits KEY_ID [--rpm N] [--tpm N]              requests/tokens per minute; neither clears the limits
  deployment create --tenant TENANT_ID --name MODEL_NAME
  deployment list --tenant TENANT_ID
  deployment status DEPLOYMENT_ID                    live: online/offline, connectors
  deployment delete DEPLOYMENT_ID                    revokes its tokens (live tunnels close), invites, shares
  token create --deployment DEPLOYMENT_ID            prints the tunnel token once
  token list --deployment DEPLOYMENT_ID
  token revoke TOKEN_ID                              live tunnels using it close at once
  invite create --deployment DEPLOYMENT_ID [--expires-in 7d | --expires-at ISO] [--max-uses N]   prints the code once
  invite list --deployment DEPLOYMENT_ID
  invite revoke INVITE_ID
  invite redeem CODE --tenant TENANT_ID              shares the deployment with that tenant
  share list --deployment DEPLOYMENT_ID
  share revoke SHARE_ID
  shared list --tenant TENANT_ID                     deployments shared with the tenant
  alias create --tenant TENANT_ID --name NAME --target MODEL [--target MODEL …] [--weights 3,1]
                                                     requests for NAME go to the first target with a live tunnel and
                                                     room (--weights: a weighted set instead of an ordered list)
  alias list --tenant TENANT_ID
  alias update ALIAS_ID --target MODEL [--target MODEL …] [--weights 3,1]   replaces the targets
  alias delete ALIAS_ID
  usage --tenant TENANT_ID [--from ISO] [--to ISO] [--bucket 1h] [--deployment ID] [--key ID]

Local store (TOKIOS_DATA_DIR, default ./.tokios; or MONGODB_URL), named on stderr; only "tenant create" may start
a new one, other commands refuse a data dir without a store. Changes are broadcast on NATS_URL when a NATS
answers there. Through the admin API instead: TOKIOS_ADMIN_URL plus TOKIOS_ADMIN_TOKEN (operator) or
TOKIOS_CONSOLE_SECRET (one tenant; --tenant is then not needed).`;

/** Runs `tokios admin …`; returns the process exit code. */
export async function runAdmin(argv: string[], env: NodeJS.ProcessEnv = process.env, out: TextSink = process.stdout, err: TextSink = process.stderr): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        name: { type: 'string' }, tenant: { type: 'string' }, deployment: { type: 'string' }, key: { type: 'string' },
        rpm: { type: 'string' }, tpm: { type: 'string' },
        'expires-in': { type: 'string' }, 'expires-at': { type: 'string' }, 'max-uses': { type: 'string' },
        from: { type: 'string' }, to: { type: 'string' }, bucket: { type: 'string' },
        target: { type: 'string', multiple: true }, weights: { type: 'string' },
        json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    err.write(`${(e as Error).message}\n\n${ADMIN_USAGE}\n`);
    return 2;
  }
  const [resource, ...rest] = parsed.positionals;
  const action = resource === 'usage' ? '' : rest.shift();
  if (parsed.values.help || !resource || action === undefined) {
    (parsed.values.help ? out : err).write(`${ADMIN_USAGE}\n`);
    return parsed.values.help ? 0 : 2;
  }
  const cmd = `${resource} ${action}`;
  let backend: AdminBackend | undefined;
  try {
    backend = await openBackend(env, cmd, err);
    const result = await dispatch(backend, cmd, rest, parsed.values);
    out.write(parsed.values.json ? `${JSON.stringify(result.json, null, 2)}\n` : `${result.text}\n`);
    if (!backend.broadcasts && NEEDS_NATS.has(cmd) && cmd !== 'deployment status') {
      err.write(`note: no NATS answered at ${env.NATS_URL ?? 'nats://127.0.0.1:4222'}; running services pick the change up from the store shortly\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`${e.message}\n\n${ADMIN_USAGE}\n`);
      return 2;
    }
    if (e instanceof ConfigError) {
      err.write(`${e.message}\n`);
      return 2;
    }
    if (e instanceof ControlError || e instanceof AdminApiError || e instanceof AdminStoreError || e instanceof StoreUnavailableError) {
      err.write(`error: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    await backend?.close();
  }
}
