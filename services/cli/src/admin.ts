import { parseArgs } from 'node:util';
import { z } from 'zod';
import { StoreUnavailableError, storeEnvSchema, type KeyLimits, type UsageReport, type UsageTotals } from '@tokios/shared/store';
import { ConfigError, parseEnv } from '@tokios/shared/config';
import { ControlError, DEFAULT_INVITE_HOURS, durationSchema, usageQuery, type AliasInput } from '@tokios/control';
import { natsSettingsFromEnv, tryConnectNats, type NatsConnection } from '@tokios/shared/nats';
import { localBackend, type AdminBackend, type Rec } from './admin-backend.js';
import { AdminApiError, apiBackend } from './admin-api-client.js';
import { readDevFile } from './dev-file.js';
import { FABRIC_SECRET_FILE, parseEnvFile, roleEnvFile } from './nats-credentials.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AdminStoreError, openAdminStore } from './admin-store.js';

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

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const need = (v: string | undefined, flag: string): string => {
  if (!v) throw new UsageError(`missing --${flag}`);
  return v;
};
const arg = (v: string | undefined, name: string): string => {
  if (!v) throw new UsageError(`missing ${name}`);
  return v;
};
function perMinute(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,10}$/.test(v) || Number(v) < 1) throw new UsageError(`--${flag} must be a whole number >= 1`);
  return Number(v);
}

type Opts = Record<string, string | string[] | boolean | undefined>;
type Out = { json: unknown; text: string };
const s = (o: Opts, k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
const lines = (list: Rec[], fmt: (r: Rec) => string, none: string): string => list.map(fmt).join('\n') || none;
const revoked = (r: Rec): string => (r.revokedAt ? '  (revoked)' : '');

/** Commands that change something (and so broadcast a control event) or read live status. */
const NEEDS_NATS = new Set([
  'key revoke', 'key limits', 'deployment create', 'deployment delete', 'deployment status', 'token revoke', 'invite redeem', 'share revoke',
  'alias create', 'alias update', 'alias delete',
]);

async function dispatch(b: AdminBackend, cmd: string, pos: string[], o: Opts): Promise<Out> {
  const given = s(o, 'tenant');
  // The operator (local store or admin token) must name the tenant; a console secret already does.
  const tenant = (): string | undefined => {
    if (!given && !b.impliesTenant) throw new UsageError('missing --tenant');
    return given;
  };
  switch (cmd) {
    case 'tenant create': {
      const t = await b.createTenant(need(s(o, 'name'), 'name'));
      return { json: t, text: `tenant ${t.id} (${String(t.name)}) created` };
    }
    case 'tenant list': {
      const list = await b.listTenants();
      return { json: list, text: lines(list, (t) => `${t.id}  ${String(t.name)}`, '(no tenants)') };
    }
    case 'tenant console-secret': {
      const { record, secret } = await b.consoleSecret(arg(pos[0], 'TENANT_ID'));
      return {
        json: { ...record, secret },
        text: `console secret for tenant ${record.id} issued (the previous one stops working). Log in to the dashboard with it; it is not shown again:\n\n  ${secret}\n`,
      };
    }
    case 'key create': {
      const limits = limitsFrom(o);
      const { record, secret } = await b.createKey(tenant(), s(o, 'name') ?? 'default', limits);
      return { json: { ...record, secret }, text: `API key ${record.id} created. Copy it now, it is not shown again:\n\n  ${secret}\n` };
    }
    case 'key list': {
      const list = await b.listKeys(tenant());
      return { json: list, text: lines(list, (k) => `${k.id}  ${String(k.prefix)}…  ${String(k.name)}${revoked(k)}${limitsText(k.limits as KeyLimits | null)}`, '(no keys)') };
    }
    case 'key revoke': {
      const k = await b.revokeKey(arg(pos[0], 'KEY_ID'));
      return { json: k, text: `key ${k.id} revoked` };
    }
    case 'key limits': {
      const k = await b.setKeyLimits(arg(pos[0], 'KEY_ID'), limitsFrom(o));
      return { json: k, text: `key ${k.id}: ${limitsText(k.limits as KeyLimits | null).trim() || 'no limits'}` };
    }
    case 'deployment create': {
      const d = await b.createDeployment(tenant(), need(s(o, 'name'), 'name'));
      return { json: d, text: `deployment ${d.id} created; clients use "model": "${String(d.name)}"` };
    }
    case 'deployment list': {
      const list = await b.listDeployments(tenant());
      return { json: list, text: lines(list, (d) => `${d.id}  ${String(d.name)}`, '(no deployments)') };
    }
    case 'deployment status': {
      const { deployment, status } = await b.deploymentStatus(arg(pos[0], 'DEPLOYMENT_ID'));
      const head = `${deployment.id}  ${String(deployment.name)}  ${!status.known ? 'status unknown (no NATS)' : status.online ? 'online' : 'offline'}`;
      const cs = status.connectors.map(
        (c) => `  ${c.connectorId}  v${c.version}  ${c.upstreamKind}  ${c.healthy ? 'healthy' : 'unhealthy'}${c.draining ? ' draining' : ''}  in-flight ${c.inFlight}/${c.maxConcurrency}  tunnels ${c.tunnels}  since ${c.connectedSince}  models ${c.models.join(',') || '-'}`,
      );
      return { json: { ...deployment, status }, text: [head, ...cs].join('\n') };
    }
    case 'deployment delete': {
      const d = await b.deleteDeployment(arg(pos[0], 'DEPLOYMENT_ID'));
      return { json: d, text: `deployment ${d.id} (${String(d.name)}) deleted; its tunnel tokens are revoked` };
    }
    case 'token create': {
      const { record, secret } = await b.createToken(need(s(o, 'deployment'), 'deployment'));
      return { json: { ...record, secret }, text: `tunnel token ${record.id} created. Put it in tokios.json as "tunnel_token"; it is not shown again:\n\n  ${secret}\n` };
    }
    case 'token list': {
      const list = await b.listTokens(need(s(o, 'deployment'), 'deployment'));
      return { json: list, text: lines(list, (t) => `${t.id}  ${String(t.prefix)}…${revoked(t)}`, '(no tokens)') };
    }
    case 'token revoke': {
      const t = await b.revokeToken(arg(pos[0], 'TOKEN_ID'));
      return { json: t, text: `token ${t.id} revoked` };
    }
    case 'invite create': {
      const { record, secret } = await b.createInvite(need(s(o, 'deployment'), 'deployment'), inviteFrom(o));
      return {
        json: { ...record, code: secret },
        text: `invite ${record.id} created (expires ${String(record.expiresAt)}, up to ${String(record.maxUses)} uses). Send this code to the other tenant; it is not shown again:\n\n  ${secret}\n`,
      };
    }
    case 'invite list': {
      const list = await b.listInvites(need(s(o, 'deployment'), 'deployment'));
      return { json: list, text: lines(list, (i) => `${i.id}  ${String(i.prefix)}…  uses ${String(i.uses)}/${String(i.maxUses)}  expires ${String(i.expiresAt)}${revoked(i)}`, '(no invites)') };
    }
    case 'invite revoke': {
      const i = await b.revokeInvite(arg(pos[0], 'INVITE_ID'));
      return { json: i, text: `invite ${i.id} revoked (shares already made stay)` };
    }
    case 'invite redeem': {
      const r = await b.redeemInvite(tenant(), arg(pos[0], 'CODE'));
      return { json: r, text: `deployment "${String(r.deployment.name)}" (${r.deployment.id}) is now shared with tenant ${String(r.share.tenantId)} (share ${r.share.id})` };
    }
    case 'share list': {
      const list = await b.listShares(need(s(o, 'deployment'), 'deployment'));
      return { json: list, text: lines(list, (x) => `${x.id}  tenant ${String(x.tenantId)}  since ${String(x.createdAt)}`, '(no shares)') };
    }
    case 'share revoke': {
      const x = await b.revokeShare(arg(pos[0], 'SHARE_ID'));
      return { json: x, text: `share ${x.id} revoked` };
    }
    case 'shared list': {
      const list = await b.listShared(tenant());
      return {
        json: list,
        text: list.map((x) => `${x.deployment.id}  ${String(x.deployment.name)}  owner ${String(x.deployment.tenantId)}  share ${x.share.id}`).join('\n') || '(nothing shared with this tenant)',
      };
    }
    case 'alias create': {
      const a = await b.createAlias(tenant(), need(s(o, 'name'), 'name'), aliasFrom(o));
      return { json: a, text: `alias ${a.id} created; clients use "model": "${String(a.name)}" → ${aliasTargetsText(a)}` };
    }
    case 'alias list': {
      const list = await b.listAliases(tenant());
      return { json: list, text: lines(list, (a) => `${a.id}  ${String(a.name)}  ${String(a.mode)}  → ${aliasTargetsText(a)}`, '(no aliases)') };
    }
    case 'alias update': {
      const a = await b.updateAlias(arg(pos[0], 'ALIAS_ID'), aliasFrom(o));
      return { json: a, text: `alias ${a.id} (${String(a.name)}) → ${aliasTargetsText(a)}` };
    }
    case 'alias delete': {
      const a = await b.deleteAlias(arg(pos[0], 'ALIAS_ID'));
      return { json: a, text: `alias ${a.id} (${String(a.name)}) deleted` };
    }
    case 'usage ': {
      const q = usageQuery.safeParse({ from: s(o, 'from'), to: s(o, 'to'), bucket: s(o, 'bucket'), deploymentId: s(o, 'deployment'), keyId: s(o, 'key') });
      if (!q.success) throw new UsageError(`bad usage query: ${q.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const r = (await b.usage(tenant(), q.data)) as UsageReport;
      const row = (x: UsageTotals) => `requests ${x.requests}  input ${x.inputTokens}  output ${x.outputTokens}  errors ${x.errors}`;
      return { json: r, text: [...r.buckets.filter((x) => x.requests > 0).map((x) => `${x.start}  ${row(x)}`), `total  ${row(r.totals)}`].join('\n') };
    }
    default:
      throw new UsageError(`unknown command: admin ${cmd.trim()}`);
  }
}

function limitsFrom(o: Opts): KeyLimits | null {
  const rpm = perMinute(s(o, 'rpm'), 'rpm');
  const tpm = perMinute(s(o, 'tpm'), 'tpm');
  const l: KeyLimits = {};
  if (rpm !== undefined) l.requestsPerMinute = rpm;
  if (tpm !== undefined) l.tokensPerMinute = tpm;
  return Object.keys(l).length ? l : null;
}

/** `--target` (repeated, in order) and `--weights 3,1` (one per target: a weighted set). */
function aliasFrom(o: Opts): AliasInput {
  const targets = Array.isArray(o.target) ? o.target.filter((x): x is string => typeof x === 'string') : [];
  if (targets.length === 0) throw new UsageError('missing --target (give one per deployment, in order)');
  const raw = s(o, 'weights');
  if (raw === undefined) return { mode: 'ordered', targets: targets.map((deployment) => ({ deployment })) };
  const weights = raw.split(',');
  if (weights.length !== targets.length || !weights.every((w) => /^\d{1,4}$/.test(w) && Number(w) >= 1)) {
    throw new UsageError(`--weights must be ${targets.length} whole numbers >= 1, one per --target, like 3,1`);
  }
  return { mode: 'weighted', targets: targets.map((deployment, i) => ({ deployment, weight: Number(weights[i]) })) };
}

function aliasTargetsText(a: Rec): string {
  const targets = Array.isArray(a.targets) ? (a.targets as { name: string | null; deploymentId: string; weight: number }[]) : [];
  return targets.map((t) => `${t.name ?? `${t.deploymentId} (deleted)`}${a.mode === 'weighted' ? ` ×${t.weight}` : ''}`).join(a.mode === 'weighted' ? ', ' : ' → ');
}

function limitsText(l: KeyLimits | null | undefined): string {
  if (!l) return '';
  const parts = [l.requestsPerMinute ? `${l.requestsPerMinute} req/min` : '', l.tokensPerMinute ? `${l.tokensPerMinute} tokens/min` : ''].filter(Boolean);
  return parts.length ? `  (${parts.join(', ')})` : '';
}

function inviteFrom(o: Opts): { expiresAt: string; maxUses: number } {
  const at = s(o, 'expires-at');
  const inRaw = s(o, 'expires-in');
  if (at && inRaw) throw new UsageError('give --expires-at or --expires-in, not both');
  let expiresAt: string;
  if (at) {
    const t = Date.parse(at);
    if (Number.isNaN(t)) throw new UsageError('--expires-at must be an ISO 8601 instant');
    expiresAt = new Date(t).toISOString();
  } else {
    const d = durationSchema.safeParse(inRaw ?? `${DEFAULT_INVITE_HOURS}h`);
    if (!d.success) throw new UsageError(`--expires-in ${d.error.issues[0]?.message ?? 'is invalid'}`);
    expiresAt = new Date(Date.now() + d.data).toISOString();
  }
  if (Date.parse(expiresAt) <= Date.now()) throw new UsageError('the invite must expire in the future');
  const mu = s(o, 'max-uses');
  if (mu !== undefined && !/^\d{1,7}$/.test(mu)) throw new UsageError('--max-uses must be a whole number');
  return { expiresAt, maxUses: mu === undefined ? 1 : Number(mu) };
}

const adminEnvSchema = z.object({
  TOKIOS_ADMIN_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  TOKIOS_ADMIN_TOKEN: z.string().optional(),
  TOKIOS_CONSOLE_SECRET: z.string().optional(),
});

async function openBackend(env: NodeJS.ProcessEnv, cmd: string, err: TextSink): Promise<AdminBackend> {
  const e = parseEnv(adminEnvSchema, env, 'admin environment');
  if (e.TOKIOS_ADMIN_URL) {
    const token = e.TOKIOS_ADMIN_TOKEN ?? e.TOKIOS_CONSOLE_SECRET;
    if (!token) throw new UsageError('TOKIOS_ADMIN_URL is set: also set TOKIOS_ADMIN_TOKEN (operator) or TOKIOS_CONSOLE_SECRET (tenant)');
    return apiBackend({ url: e.TOKIOS_ADMIN_URL, token, operator: e.TOKIOS_ADMIN_TOKEN !== undefined });
  }
  const storeEnv = parseEnv(storeEnvSchema, env, 'store environment');
  const store = await openAdminStore(storeEnv, env, cmd, err);
  if (!NEEDS_NATS.has(cmd)) return localBackend(store, undefined, undefined);
  try {
    const { nc, fabricSecret } = await adminNats(env, storeEnv.TOKIOS_DATA_DIR);
    return localBackend(store, nc, fabricSecret);
  } catch (err) {
    await store.close();
    throw err;
  }
}

/**
 * NATS for `tokios admin` (role admin): NATS_URL with the credentials in the environment, or the NATS of a
 * `tokios dev` on this data dir (its own nats-server, with the admin role's credentials it keeps there) — the dev
 * stack first when NATS_URL is not set, as a fallback when NATS_URL does not answer.
 */
async function adminNats(env: NodeJS.ProcessEnv, dataDir: string): Promise<{ nc: NatsConnection | undefined; fabricSecret: string | undefined }> {
  const fromEnv = async () => {
    const settings = natsSettingsFromEnv(env);
    return { nc: await tryConnectNats(settings, 'tokios-admin', 'admin'), fabricSecret: settings.fabricSecret };
  };
  const fromDev = async () => {
    const dev = await readDevFile(dataDir);
    if (!dev) return { nc: undefined, fabricSecret: undefined };
    const roleEnv = dev.natsDir ? parseEnvFile(await readFile(roleEnvFile(dev.natsDir, 'admin'), 'utf8').catch(() => '')) : {};
    const secret = env.TOKIOS_FABRIC_SECRET || roleEnv.TOKIOS_FABRIC_SECRET || (await readFile(join(dataDir, FABRIC_SECRET_FILE), 'utf8').catch(() => '')).trim() || undefined;
    const settings = natsSettingsFromEnv({ ...roleEnv, TOKIOS_FABRIC_SECRET: secret, NATS_URL: dev.natsUrl });
    return { nc: await tryConnectNats(settings, 'tokios-admin', 'admin'), fabricSecret: settings.fabricSecret };
  };
  const [first, second] = env.NATS_URL ? [fromEnv, fromDev] : [fromDev, fromEnv];
  const r = await first();
  return r.nc ? r : second();
}

export interface TextSink {
  write(text: string): unknown;
}

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
