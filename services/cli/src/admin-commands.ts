import { type KeyLimits, type UsageReport, type UsageTotals } from '@tokios/shared/store';
import { usageQuery } from '@tokios/control';
import type { AdminBackend, Rec } from './admin-backend.js';
import { UsageError, aliasFrom, arg, inviteFrom, limitsFrom, need, s, type Opts } from './admin-options.js';

/** Each `tokios admin` command: the backend call and its answer, as JSON (--json) and as text. */

export type Out = { json: unknown; text: string };
const lines = (list: Rec[], fmt: (r: Rec) => string, none: string): string => list.map(fmt).join('\n') || none;
const revoked = (r: Rec): string => (r.revokedAt ? '  (revoked)' : '');

/** Commands that change something (and so broadcast a control event) or read live status. */
export const NEEDS_NATS = new Set([
  'key revoke', 'key limits', 'deployment create', 'deployment delete', 'deployment status', 'token revoke', 'invite redeem', 'share revoke',
  'alias create', 'alias update', 'alias delete',
]);

export async function dispatch(b: AdminBackend, cmd: string, pos: string[], o: Opts): Promise<Out> {
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

function aliasTargetsText(a: Rec): string {
  const targets = Array.isArray(a.targets) ? (a.targets as { name: string | null; deploymentId: string; weight: number }[]) : [];
  return targets.map((t) => `${t.name ?? `${t.deploymentId} (deleted)`}${a.mode === 'weighted' ? ` ×${t.weight}` : ''}`).join(a.mode === 'weighted' ? ', ' : ' → ');
}

function limitsText(l: KeyLimits | null | undefined): string {
  if (!l) return '';
  const parts = [l.requestsPerMinute ? `${l.requestsPerMinute} req/min` : '', l.tokensPerMinute ? `${l.tokensPerMinute} tokens/min` : ''].filter(Boolean);
  return parts.length ? `  (${parts.join(', ')})` : '';
}
