import type { Test } from 'tap';
import type { Store } from '../../src/store/store.js';
import type { Deployment, UsageRecord, UsageTotals } from '../../src/store/types.js';
import { hashSecret, type Clock } from '../../src/store/secrets.js';
import { DEFAULT_USAGE_RETENTION } from '../../src/store/retention.js';
import { floorHour } from '../../src/store/usage.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The behaviour every Store implementation must have. A store test file calls
 * `runStoreContract(t, 'SqliteStore', makeStore)`; each subtest gets a fresh, empty store.
 */

export interface StoreHarness {
  store: Store;
  /** Everything the store persisted, as text, to check that no secret is kept in clear. */
  dumpRaw(): Promise<string>;
  /** Deletes usage past its retention now (the SQLite store's prune; nothing for MongoDB, whose TTL indexes do it). */
  prune(): Promise<void>;
  close(): Promise<void>;
}
export type MakeStore = (clock: Clock) => Promise<StoreHarness>;

/** A clock the test moves by hand; it starts half past the current hour (MongoDB's TTL monitor uses real time). */
export class TestClock {
  constructor(public ms = floorHour(Date.now()) + 30 * 60_000) {}
  readonly now: Clock = () => new Date(this.ms);
  advance(ms: number): void {
    this.ms += ms;
  }
  iso(offsetMs = 0): string {
    return new Date(this.ms + offsetMs).toISOString();
  }
}

const conflict = { name: 'StoreConflictError' };
const notFound = { name: 'StoreNotFoundError' };
const invalid = { name: 'StoreValidationError' };
const rejected = (reason: string) => ({ name: 'InviteRejectedError', reason });

export async function runStoreContract(t: Test, name: string, make: MakeStore): Promise<void> {
  await t.test(`${name} store contract`, async (t) => {
    /** A fresh store for one subtest, closed when it ends. */
    const fresh = async (t: Test): Promise<{ store: Store; clock: TestClock; h: StoreHarness }> => {
      const clock = new TestClock();
      const h = await make(clock.now);
      t.teardown(() => h.close());
      return { store: h.store, clock, h };
    };

    await t.test('tenants: create, get, list, validation', async (t) => {
      const { store } = await fresh(t);
      const a = await store.createTenant({ name: '  Acme  ' });
      t.equal(a.name, 'Acme', 'names are trimmed');
      t.match(a.id, /^ten_[0-9a-f]{16}$/);
      t.equal(a.console, null, 'no console secret until one is issued');
      const b = await store.createTenant({ name: 'Beta' });
      t.same(await store.getTenant(a.id), a);
      t.equal(await store.getTenant('ten_0000000000000000'), null);
      t.same((await store.listTenants()).map((x) => x.id).sort(), [a.id, b.id].sort());
      await t.rejects(store.createTenant({ name: '   ' }), invalid);
      await t.rejects(store.createTenant({ name: 'x'.repeat(129) }), invalid);
    });

    await t.test('console secret: issued once, hashed, rotates, looks a tenant up', async (t) => {
      const { store } = await fresh(t);
      const a = await store.createTenant({ name: 'A' });
      const b = await store.createTenant({ name: 'B' });
      const first = await store.createTenantConsoleSecret(a.id);
      t.match(first.secret, /^tc-tokios-[A-Za-z0-9]{40}$/);
      t.equal(first.record.id, a.id);
      t.equal(first.record.console?.hash, hashSecret(first.secret));
      t.equal(first.record.console?.prefix, first.secret.slice(0, 14));
      t.equal((await store.findTenantBySecret(first.secret))?.id, a.id);
      t.equal(await store.findTenantBySecret('tc-tokios-' + 'x'.repeat(40)), null);
      const second = await store.createTenantConsoleSecret(a.id);
      t.not(second.secret, first.secret);
      t.equal(await store.findTenantBySecret(first.secret), null, 'rotation retires the old secret');
      t.equal((await store.findTenantBySecret(second.secret))?.id, a.id);
      const bs = await store.createTenantConsoleSecret(b.id);
      t.equal((await store.findTenantBySecret(bs.secret))?.id, b.id, 'each tenant has its own');
      t.equal((await store.getTenant(a.id))?.console?.hash, hashSecret(second.secret));
      await t.rejects(store.createTenantConsoleSecret('ten_0000000000000000'), notFound);
    });

    await t.test('dashboard sessions: revoked until their cookie expires, idempotent, validated', async (t) => {
      const { store, clock } = await fresh(t);
      const a = await store.createTenant({ name: 'A' });
      const sid = 'ses_00112233445566aa';
      const other = 'ses_ffeeddccbbaa9988';
      t.equal(await store.isSessionRevoked(sid), false, 'a session is valid until its logout');
      await store.revokeSession({ sessionId: sid, tenantId: a.id, expiresAt: clock.iso(HOUR) });
      t.equal(await store.isSessionRevoked(sid), true, 'revoked');
      t.equal(await store.isSessionRevoked(other), false, 'only that session');
      await store.revokeSession({ sessionId: sid, tenantId: a.id, expiresAt: clock.iso(HOUR) });
      await store.revokeSession({ sessionId: sid, tenantId: a.id, expiresAt: clock.iso(2 * HOUR) });
      await store.revokeSession({ sessionId: sid, tenantId: a.id, expiresAt: clock.iso(30 * 60_000) });
      clock.advance(HOUR + 1_000);
      t.equal(await store.isSessionRevoked(sid), true, 'revoking again is harmless; the latest expiry counts');
      clock.advance(HOUR);
      t.equal(await store.isSessionRevoked(sid), false, 'past its cookie expiry the entry is no longer needed');
      await store.revokeSession({ sessionId: other, tenantId: a.id, expiresAt: clock.iso(-1_000) });
      t.equal(await store.isSessionRevoked(other), false, 'an expired cookie needs no entry');
      await t.rejects(store.revokeSession({ sessionId: 'not-a-session', tenantId: a.id, expiresAt: clock.iso(HOUR) }), invalid);
      await t.rejects(store.revokeSession({ sessionId: sid, tenantId: a.id, expiresAt: 'tomorrow' }), invalid);
      await t.rejects(store.isSessionRevoked('ses_'), invalid);
    });

    await t.test('API keys: create, get, list, revoke, find by secret', async (t) => {
      const { store, clock } = await fresh(t);
      const a = await store.createTenant({ name: 'A' });
      const b = await store.createTenant({ name: 'B' });
      const k1 = await store.createApiKey({ tenantId: a.id, name: 'ci' });
      t.match(k1.secret, /^sk-tokios-[A-Za-z0-9]{40}$/);
      t.equal(k1.record.hash, hashSecret(k1.secret));
      t.equal(k1.record.prefix, k1.secret.slice(0, 14));
      t.equal(k1.record.revokedAt, null);
      t.equal(k1.record.limits, null);
      t.equal(k1.record.createdAt, clock.iso());
      const k2 = await store.createApiKey({ tenantId: b.id, name: 'other' });
      t.same(await store.getApiKey(k1.record.id), k1.record);
      t.equal(await store.getApiKey('key_0000000000000000'), null);
      t.same((await store.listApiKeys(a.id)).map((k) => k.id), [k1.record.id], 'lists only the tenant’s keys');
      t.same(await store.findApiKeyBySecret(k1.secret), k1.record);
      t.equal((await store.findApiKeyBySecret(k2.secret))?.tenantId, b.id);
      t.equal(await store.findApiKeyBySecret(k1.secret + 'x'), null);
      clock.advance(1000);
      const revoked = await store.revokeApiKey(k1.record.id);
      t.equal(revoked?.revokedAt, clock.iso());
      clock.advance(1000);
      t.equal((await store.revokeApiKey(k1.record.id))?.revokedAt, revoked?.revokedAt, 'revoking again keeps the first time');
      t.equal((await store.findApiKeyBySecret(k1.secret))?.revokedAt, revoked?.revokedAt, 'revoked keys are still found');
      t.equal(await store.revokeApiKey('key_0000000000000000'), null);
      await t.rejects(store.createApiKey({ tenantId: 'ten_0000000000000000', name: 'x' }), notFound);
      await t.rejects(store.createApiKey({ tenantId: a.id, name: '' }), invalid);
    });

    await t.test('API key limits: at create time, set, clear, validation', async (t) => {
      const { store } = await fresh(t);
      const a = await store.createTenant({ name: 'A' });
      const k = await store.createApiKey({ tenantId: a.id, name: 'k', limits: { requestsPerMinute: 60 } });
      t.same(k.record.limits, { requestsPerMinute: 60 });
      t.same((await store.findApiKeyBySecret(k.secret))?.limits, { requestsPerMinute: 60 });
      const set = await store.setApiKeyLimits(k.record.id, { requestsPerMinute: 10, tokensPerMinute: 5000 });
      t.same(set?.limits, { requestsPerMinute: 10, tokensPerMinute: 5000 });
      t.same((await store.getApiKey(k.record.id))?.limits, { requestsPerMinute: 10, tokensPerMinute: 5000 });
      t.same((await store.setApiKeyLimits(k.record.id, { tokensPerMinute: 7 }))?.limits, { tokensPerMinute: 7 }, 'replaces, not merges');
      t.equal((await store.setApiKeyLimits(k.record.id, {}))?.limits, null, '{} clears');
      await store.setApiKeyLimits(k.record.id, { requestsPerMinute: 1 });
      t.equal((await store.setApiKeyLimits(k.record.id, null))?.limits, null, 'null clears');
      t.equal((await store.getApiKey(k.record.id))?.limits, null);
      t.equal(await store.setApiKeyLimits('key_0000000000000000', { requestsPerMinute: 1 }), null);
      await t.rejects(store.setApiKeyLimits(k.record.id, { requestsPerMinute: 0 }), invalid);
      await t.rejects(store.setApiKeyLimits(k.record.id, { requestsPerMinute: 1.5 }), invalid);
      await t.rejects(store.setApiKeyLimits(k.record.id, { tokensPerMinute: -1 }), invalid);
      await t.rejects(store.setApiKeyLimits(k.record.id, { rpm: 1 } as never), invalid, 'unknown fields are refused');
      await t.rejects(store.createApiKey({ tenantId: a.id, name: 'k2', limits: { tokensPerMinute: 0 } }), invalid);
      t.same((await store.getApiKey(k.record.id))?.limits, null, 'a refused update changes nothing');
    });

    await t.test('deployments: create, uniqueness per tenant, lookups, isolation', async (t) => {
      const { store } = await fresh(t);
      const a = await store.createTenant({ name: 'A' });
      const b = await store.createTenant({ name: 'B' });
      const da = await store.createDeployment({ tenantId: a.id, name: 'llama-3:8b' });
      await t.rejects(store.createDeployment({ tenantId: a.id, name: 'llama-3:8b' }), conflict);
      const db = await store.createDeployment({ tenantId: b.id, name: 'llama-3:8b' });
      t.not(da.id, db.id, 'the same name in another tenant is a different deployment');
      await t.rejects(store.createDeployment({ tenantId: 'ten_0000000000000000', name: 'x' }), notFound);
      await t.rejects(store.createDeployment({ tenantId: a.id, name: 'has space' }), invalid);
      await t.rejects(store.createDeployment({ tenantId: a.id, name: '' }), invalid);
      t.same(await store.getDeployment(da.id), da);
      t.equal(await store.getDeployment('dep_0000000000000000'), null);
      t.same(await store.findDeploymentByName(a.id, 'llama-3:8b'), da);
      t.same(await store.findDeploymentByName(b.id, 'llama-3:8b'), db);
      t.equal(await store.findDeploymentByName(a.id, 'LLAMA-3:8B'), null, 'names are case-sensitive');
      const onlyA = await store.createDeployment({ tenantId: a.id, name: 'private' });
      t.equal(await store.findDeploymentByName(b.id, 'private'), null, 'B never finds A’s deployment by name');
      t.equal(await store.findAccessibleDeployment(b.id, 'private'), null, 'not even as accessible');
      t.equal(await store.findAccessibleDeployment(b.id, `${a.id}/private`), null, 'nor qualified');
      t.same((await store.listDeployments(a.id)).map((d) => d.id).sort(), [da.id, onlyA.id].sort());
      t.same((await store.listDeployments(b.id)).map((d) => d.id), [db.id]);
    });

    await t.test('tunnel tokens: belong to exactly one deployment', async (t) => {
      const { store } = await fresh(t);
      const a = await store.createTenant({ name: 'A' });
      const d1 = await store.createDeployment({ tenantId: a.id, name: 'one' });
      const d2 = await store.createDeployment({ tenantId: a.id, name: 'two' });
      const t1 = await store.createTunnelToken({ deploymentId: d1.id });
      const t2 = await store.createTunnelToken({ deploymentId: d2.id });
      t.match(t1.secret, /^tt-tokios-[A-Za-z0-9]{40}$/);
      t.equal(t1.record.tenantId, a.id);
      t.equal(t1.record.hash, hashSecret(t1.secret));
      t.equal((await store.findTunnelTokenBySecret(t1.secret))?.deploymentId, d1.id);
      t.equal((await store.findTunnelTokenBySecret(t2.secret))?.deploymentId, d2.id);
      t.same((await store.listTunnelTokens(d1.id)).map((x) => x.id), [t1.record.id]);
      t.same((await store.listTunnelTokens(d2.id)).map((x) => x.id), [t2.record.id]);
      t.equal(await store.findTunnelTokenBySecret(t1.secret.slice(0, -1)), null);
      await t.rejects(store.createTunnelToken({ deploymentId: 'dep_0000000000000000' }), notFound);
      const r = await store.revokeTunnelToken(t1.record.id);
      t.ok(r?.revokedAt);
      t.equal((await store.findTunnelTokenBySecret(t1.secret))?.revokedAt, r?.revokedAt);
      t.equal((await store.findTunnelTokenBySecret(t2.secret))?.revokedAt, null, 'the other token is untouched');
      t.equal(await store.revokeTunnelToken('tok_0000000000000000'), null);
    });

    await t.test('secrets are shown once and only their hashes are stored', async (t) => {
      const { store, h, clock } = await fresh(t);
      const a = await store.createTenant({ name: 'A' });
      const b = await store.createTenant({ name: 'B' });
      const dep = await store.createDeployment({ tenantId: a.id, name: 'm' });
      const secrets = [
        (await store.createTenantConsoleSecret(a.id)).secret,
        (await store.createApiKey({ tenantId: a.id, name: 'k' })).secret,
        (await store.createTunnelToken({ deploymentId: dep.id })).secret,
      ];
      const invite = await store.createInvite({ deploymentId: dep.id, expiresAt: clock.iso(60_000), maxUses: 2 });
      secrets.push(invite.secret);
      await store.redeemInvite({ code: invite.secret, tenantId: b.id });
      t.match(invite.secret, /^ti-tokios-[A-Za-z0-9]{40}$/);
      const raw = await h.dumpRaw();
      t.ok(raw.length > 0, 'the dump is not empty');
      for (const s of secrets) {
        t.notOk(raw.includes(s), `${s.slice(0, 10)}… is not stored in clear`);
        t.notOk(raw.includes(s.slice(14)), `${s.slice(0, 10)}… has no undisplayed part stored`);
        t.ok(raw.includes(hashSecret(s)), `${s.slice(0, 10)}… is stored as its hash`);
      }
      t.same(
        (await store.listApiKeys(a.id)).map((k) => Object.keys(k).sort()),
        [['createdAt', 'hash', 'id', 'limits', 'name', 'prefix', 'revokedAt', 'tenantId']],
        'listed keys carry no secret field',
      );
    });

    await t.test('invites: create, redeem, uses, expiry, revocation, refusals', async (t) => {
      const { store, clock } = await fresh(t);
      const owner = await store.createTenant({ name: 'Owner' });
      const b = await store.createTenant({ name: 'B' });
      const c = await store.createTenant({ name: 'C' });
      const d = await store.createTenant({ name: 'D' });
      const dep = await store.createDeployment({ tenantId: owner.id, name: 'shared-model' });

      await t.rejects(store.createInvite({ deploymentId: dep.id, expiresAt: clock.iso(0), maxUses: 1 }), invalid, 'expiry must be in the future');
      await t.rejects(store.createInvite({ deploymentId: dep.id, expiresAt: 'tomorrow', maxUses: 1 }), invalid);
      await t.rejects(store.createInvite({ deploymentId: dep.id, expiresAt: clock.iso(1000), maxUses: 0 }), invalid);
      await t.rejects(store.createInvite({ deploymentId: dep.id, expiresAt: clock.iso(1000), maxUses: 1.5 }), invalid);
      await t.rejects(store.createInvite({ deploymentId: 'dep_0000000000000000', expiresAt: clock.iso(1000), maxUses: 1 }), notFound);

      const inv = await store.createInvite({ deploymentId: dep.id, expiresAt: clock.iso(60_000), maxUses: 2 });
      t.equal(inv.record.uses, 0);
      t.equal(inv.record.tenantId, owner.id);
      t.equal(inv.record.hash, hashSecret(inv.secret));
      t.equal(inv.record.expiresAt, clock.iso(60_000));

      await t.rejects(store.redeemInvite({ code: inv.secret, tenantId: owner.id }), rejected('own_deployment'));
      await t.rejects(store.redeemInvite({ code: 'ti-tokios-nope', tenantId: b.id }), rejected('unknown'));
      await t.rejects(store.redeemInvite({ code: inv.secret, tenantId: 'ten_0000000000000000' }), notFound);

      const share = await store.redeemInvite({ code: inv.secret, tenantId: b.id });
      t.equal(share.deploymentId, dep.id);
      t.equal(share.ownerTenantId, owner.id);
      t.equal(share.tenantId, b.id);
      t.equal(share.inviteId, inv.record.id);
      await t.rejects(store.redeemInvite({ code: inv.secret, tenantId: b.id }), conflict, 'already shared');
      t.equal((await store.listInvites(dep.id))[0]?.uses, 1, 'a refused redemption uses nothing');

      await store.redeemInvite({ code: inv.secret, tenantId: c.id });
      t.equal((await store.listInvites(dep.id))[0]?.uses, 2);
      await t.rejects(store.redeemInvite({ code: inv.secret, tenantId: d.id }), rejected('exhausted'));
      t.same((await store.listShares(dep.id)).map((s) => s.tenantId).sort(), [b.id, c.id].sort());

      const short = await store.createInvite({ deploymentId: dep.id, expiresAt: clock.iso(1000), maxUses: 5 });
      clock.advance(999);
      const other = await store.createDeployment({ tenantId: owner.id, name: 'second' });
      const viaShort = await store.createInvite({ deploymentId: other.id, expiresAt: clock.iso(1), maxUses: 5 });
      clock.advance(1);
      await t.rejects(store.redeemInvite({ code: short.secret, tenantId: d.id }), rejected('expired'), 'expires at expiresAt');
      await t.rejects(store.redeemInvite({ code: viaShort.secret, tenantId: d.id }), rejected('expired'));

      const rev = await store.createInvite({ deploymentId: dep.id, expiresAt: clock.iso(60_000), maxUses: 5 });
      const revoked = await store.revokeInvite(rev.record.id);
      t.ok(revoked?.revokedAt);
      clock.advance(10);
      t.equal((await store.revokeInvite(rev.record.id))?.revokedAt, revoked?.revokedAt, 'idempotent');
      t.equal(await store.revokeInvite('inv_0000000000000000'), null);
      await t.rejects(store.redeemInvite({ code: rev.secret, tenantId: d.id }), rejected('revoked'));
      t.equal((await store.listShares(dep.id)).length, 2, 'revoking an invite keeps the shares it made');
      t.same((await store.listInvites(dep.id)).map((i) => i.id).sort(), [inv.record.id, short.record.id, rev.record.id].sort());
      t.same(await store.listInvites(other.id).then((l) => l.map((i) => i.id)), [viaShort.record.id]);
    });

    await t.test('shares: listed both ways, revoked, re-shared', async (t) => {
      const { store, clock } = await fresh(t);
      const owner = await store.createTenant({ name: 'Owner' });
      const b = await store.createTenant({ name: 'B' });
      const dep = await store.createDeployment({ tenantId: owner.id, name: 'm' });
      t.same(await store.listSharedWithTenant(b.id), []);
      const inv = await store.createInvite({ deploymentId: dep.id, expiresAt: clock.iso(60_000), maxUses: 10 });
      const share = await store.redeemInvite({ code: inv.secret, tenantId: b.id });
      t.same(await store.listSharedWithTenant(b.id), [{ share, deployment: dep }]);
      t.same(await store.listSharedWithTenant(owner.id), [], 'the owner does not see its own deployment as shared');
      t.same(await store.listShares(dep.id), [share]);
      t.same(await store.findAccessibleDeployment(b.id, 'm'), dep);
      t.same(await store.revokeShare(share.id), share);
      t.equal(await store.revokeShare(share.id), null, 'already gone');
      t.same(await store.listShares(dep.id), []);
      t.same(await store.listSharedWithTenant(b.id), []);
      t.equal(await store.findAccessibleDeployment(b.id, 'm'), null, 'access ends with the share');
      const again = await store.redeemInvite({ code: inv.secret, tenantId: b.id });
      t.not(again.id, share.id, 'a revoked share can be re-made');
      t.same(await store.findAccessibleDeployment(b.id, 'm'), dep);
    });

    await t.test('findAccessibleDeployment: own wins, first share wins, qualified names', async (t) => {
      const { store, clock } = await fresh(t);
      const me = await store.createTenant({ name: 'Me' });
      const x = await store.createTenant({ name: 'X' });
      const y = await store.createTenant({ name: 'Y' });
      const share = async (dep: Deployment) => {
        const inv = await store.createInvite({ deploymentId: dep.id, expiresAt: clock.iso(60_000), maxUses: 1 });
        clock.advance(1000);
        return store.redeemInvite({ code: inv.secret, tenantId: me.id });
      };
      const xModel = await store.createDeployment({ tenantId: x.id, name: 'model' });
      const yModel = await store.createDeployment({ tenantId: y.id, name: 'model' });
      const yOther = await store.createDeployment({ tenantId: y.id, name: 'other' });
      await share(yModel);
      await share(xModel);
      await share(yOther);
      t.same(await store.findAccessibleDeployment(me.id, 'model'), yModel, 'the share redeemed first wins, whatever the owner');
      t.same(await store.findAccessibleDeployment(me.id, `${x.id}/model`), xModel, 'the other one by qualified name');
      t.same(await store.findAccessibleDeployment(me.id, `${y.id}/model`), yModel);
      t.same(await store.findAccessibleDeployment(me.id, 'other'), yOther);
      t.equal(await store.findAccessibleDeployment(me.id, 'missing'), null);
      t.equal(await store.findDeploymentByName(me.id, 'model'), null, 'findDeploymentByName never follows shares');

      const mine = await store.createDeployment({ tenantId: me.id, name: 'model' });
      t.same(await store.findAccessibleDeployment(me.id, 'model'), mine, 'an own deployment wins over shared ones');
      t.same(await store.findAccessibleDeployment(me.id, `${me.id}/model`), mine, 'own, qualified');
      t.same(await store.findAccessibleDeployment(me.id, `${x.id}/model`), xModel, 'shared ones stay reachable qualified');
      t.equal(await store.findAccessibleDeployment(x.id, 'other'), null, 'X was not given Y’s deployment');
      t.equal(await store.findAccessibleDeployment(x.id, `${y.id}/other`), null);
      t.same(await store.findAccessibleDeployment(x.id, 'model'), xModel);
    });

    await t.test('names with a / are refused; a qualified name resolves only as qualified (issue 8 finding 3)', async (t) => {
      const { store } = await fresh(t);
      const a = await store.createTenant({ name: 'A' });
      const b = await store.createTenant({ name: 'B' });
      await t.rejects(store.createDeployment({ tenantId: a.id, name: `${b.id}/chat` }), invalid, 'A cannot name a deployment like B’s qualified one');
      await t.rejects(store.createDeployment({ tenantId: a.id, name: 'a/b' }), invalid);
      t.equal(await store.findAccessibleDeployment(a.id, `${b.id}/chat`), null, 'B’s qualified name, not shared with A: nothing');
      t.equal(await store.findAccessibleDeployment(a.id, 'x/y/z'), null);
    });

    await t.test('deleteDeployment cascades to tokens, invites and shares', async (t) => {
      const { store, clock } = await fresh(t);
      const owner = await store.createTenant({ name: 'Owner' });
      const b = await store.createTenant({ name: 'B' });
      const dep = await store.createDeployment({ tenantId: owner.id, name: 'gone' });
      const keep = await store.createDeployment({ tenantId: owner.id, name: 'kept' });
      const tok = await store.createTunnelToken({ deploymentId: dep.id });
      const keptTok = await store.createTunnelToken({ deploymentId: keep.id });
      const inv = await store.createInvite({ deploymentId: dep.id, expiresAt: clock.iso(60_000), maxUses: 5 });
      await store.redeemInvite({ code: inv.secret, tenantId: b.id });
      const unused = await store.createInvite({ deploymentId: dep.id, expiresAt: clock.iso(60_000), maxUses: 5 });

      t.same(await store.deleteDeployment(dep.id), dep);
      t.equal(await store.getDeployment(dep.id), null);
      t.equal(await store.findDeploymentByName(owner.id, 'gone'), null);
      t.equal(await store.findAccessibleDeployment(b.id, 'gone'), null);
      t.ok((await store.findTunnelTokenBySecret(tok.secret))?.revokedAt, 'its tunnel tokens are revoked');
      t.equal((await store.findTunnelTokenBySecret(keptTok.secret))?.revokedAt, null, 'other deployments keep theirs');
      t.same(await store.listShares(dep.id), []);
      t.same(await store.listSharedWithTenant(b.id), []);
      t.ok((await store.listInvites(dep.id)).every((i) => i.revokedAt !== null), 'its invites are revoked');
      await t.rejects(store.redeemInvite({ code: unused.secret, tenantId: b.id }), rejected('revoked'));
      await t.rejects(store.createTunnelToken({ deploymentId: dep.id }), notFound);
      t.equal(await store.deleteDeployment(dep.id), null, 'deleting again finds nothing');
      const reborn = await store.createDeployment({ tenantId: owner.id, name: 'gone' });
      t.not(reborn.id, dep.id, 'the name is free again');
    });

    await t.test('aliases: create, list, update, delete; one namespace with deployments; validation', async (t) => {
      const { store, clock } = await fresh(t);
      const a = await store.createTenant({ name: 'A' });
      const b = await store.createTenant({ name: 'B' });
      const big = await store.createDeployment({ tenantId: a.id, name: 'big' });
      const small = await store.createDeployment({ tenantId: a.id, name: 'small' });
      const alias = await store.createAlias({ tenantId: a.id, name: 'coder', targets: [{ deploymentId: big.id }, { deploymentId: small.id }] });
      t.match(alias.id, /^als_[0-9a-f]{16}$/);
      t.same(alias.targets, [{ deploymentId: big.id, weight: 1 }, { deploymentId: small.id, weight: 1 }], 'ordered by default, weights 1');
      t.equal(alias.mode, 'ordered');
      t.same(await store.getAlias(alias.id), alias);
      t.same(await store.findAliasByName(a.id, 'coder'), alias);
      t.equal(await store.findAliasByName(b.id, 'coder'), null, 'aliases belong to one tenant');
      t.same((await store.listAliases(a.id)).map((x) => x.id), [alias.id]);
      t.same(await store.listAliases(b.id), []);

      await t.rejects(store.createAlias({ tenantId: a.id, name: 'coder', targets: [{ deploymentId: big.id }] }), conflict, 'alias names are unique');
      await t.rejects(store.createAlias({ tenantId: a.id, name: 'big', targets: [{ deploymentId: small.id }] }), conflict, 'not a deployment’s name');
      await t.rejects(store.createDeployment({ tenantId: a.id, name: 'coder' }), conflict, 'nor the other way round');
      await t.rejects(store.createAlias({ tenantId: a.id, name: 'x', targets: [] }), { ...invalid, field: 'alias.targets' });
      await t.rejects(
        store.createAlias({ tenantId: a.id, name: 'x', targets: Array.from({ length: 9 }, (_, i) => ({ deploymentId: `dep_${i}` })) }),
        { ...invalid, field: 'alias.targets' },
        'at most 8 targets',
      );
      await t.rejects(store.createAlias({ tenantId: a.id, name: 'x', targets: [{ deploymentId: big.id }, { deploymentId: big.id }] }), { ...invalid, field: 'alias.targets' }, 'no duplicates');
      await t.rejects(store.createAlias({ tenantId: a.id, name: `${b.id}/x`, targets: [{ deploymentId: big.id }] }), { ...invalid, field: 'alias.name' }, 'no / in names');
      await t.rejects(store.createAlias({ tenantId: a.id, name: 'x', mode: 'random' as 'ordered', targets: [{ deploymentId: big.id }] }), { ...invalid, field: 'alias.mode' });
      await t.rejects(store.createAlias({ tenantId: a.id, name: 'x', mode: 'weighted', targets: [{ deploymentId: big.id, weight: 0 }] }), { ...invalid, field: 'alias.targets.0.weight' });
      await t.rejects(store.createAlias({ tenantId: a.id, name: 'self', targets: [{ deploymentId: alias.id }] }), { ...invalid, field: 'targets.0.deploymentId' }, 'an alias is not a target');
      await t.rejects(store.createAlias({ tenantId: 'ten_0000000000000000', name: 'x', targets: [{ deploymentId: big.id }] }), invalid, 'another tenant’s deployment is not a target');

      // The tenant boundary: B may target A's deployment only once it is shared with B.
      await t.rejects(store.createAlias({ tenantId: b.id, name: 'steal', targets: [{ deploymentId: big.id }] }), { ...invalid, field: 'targets.0.deploymentId' });
      const inv = await store.createInvite({ deploymentId: big.id, expiresAt: clock.iso(60_000), maxUses: 1 });
      const share = await store.redeemInvite({ code: inv.secret, tenantId: b.id });
      const bAlias = await store.createAlias({ tenantId: b.id, name: 'via-share', mode: 'weighted', targets: [{ deploymentId: big.id, weight: 3 }] });
      t.same(bAlias.targets, [{ deploymentId: big.id, weight: 3 }]);

      clock.advance(1000);
      const updated = await store.updateAlias(alias.id, { mode: 'weighted', targets: [{ deploymentId: small.id, weight: 5 }, { deploymentId: big.id }] });
      t.equal(updated?.name, 'coder', 'the name stays');
      t.equal(updated?.mode, 'weighted');
      t.same(updated?.targets, [{ deploymentId: small.id, weight: 5 }, { deploymentId: big.id, weight: 1 }]);
      t.not(updated?.updatedAt, alias.updatedAt);
      t.equal(updated?.createdAt, alias.createdAt);
      await t.rejects(store.updateAlias(alias.id, { targets: [{ deploymentId: alias.id }] }), { ...invalid, field: 'targets.0.deploymentId' }, 'not itself');
      t.equal(await store.updateAlias('als_0000000000000000', { targets: [{ deploymentId: big.id }] }), null);

      await store.revokeShare(share.id);
      t.same(await store.resolveModel(b.id, 'via-share'), { kind: 'alias', alias: bAlias, targets: [] }, 'an unshared target is skipped');
      t.same(await store.deleteAlias(alias.id), updated);
      t.equal(await store.getAlias(alias.id), null);
      t.equal(await store.deleteAlias(alias.id), null, 'deleting again finds nothing');
      const dep = await store.createDeployment({ tenantId: a.id, name: 'coder' });
      t.equal(dep.name, 'coder', 'the name is free again');
    });

    await t.test('resolveModel: own deployment, own alias with usable targets, shared, qualified', async (t) => {
      const { store, clock } = await fresh(t);
      const me = await store.createTenant({ name: 'Me' });
      const x = await store.createTenant({ name: 'X' });
      const mine = await store.createDeployment({ tenantId: me.id, name: 'mine' });
      const theirs = await store.createDeployment({ tenantId: x.id, name: 'theirs' });
      const clash = await store.createDeployment({ tenantId: x.id, name: 'pair' });
      for (const d of [theirs, clash]) {
        const inv = await store.createInvite({ deploymentId: d.id, expiresAt: clock.iso(60_000), maxUses: 1 });
        clock.advance(1000);
        await store.redeemInvite({ code: inv.secret, tenantId: me.id });
      }
      const pair = await store.createAlias({ tenantId: me.id, name: 'pair', targets: [{ deploymentId: theirs.id }, { deploymentId: mine.id }] });
      t.same(await store.resolveModel(me.id, 'mine'), { kind: 'deployment', deployment: mine });
      t.same(await store.resolveModel(me.id, 'pair'), {
        kind: 'alias', alias: pair, targets: [{ deployment: theirs, weight: 1 }, { deployment: mine, weight: 1 }],
      }, 'an own alias wins over a shared deployment of that name; targets in order');
      t.same(await store.resolveModel(me.id, `${x.id}/pair`), { kind: 'deployment', deployment: clash }, 'the shared one stays reachable qualified');
      t.same(await store.resolveModel(me.id, 'theirs'), { kind: 'deployment', deployment: theirs });
      t.equal(await store.resolveModel(me.id, `${me.id}/pair`), null, 'aliases are not reachable by qualified name');
      t.same(await store.resolveModel(x.id, 'pair'), { kind: 'deployment', deployment: clash }, 'X sees its own deployment, never Me’s alias');
      t.equal(await store.resolveModel(x.id, 'missing'), null);
      await store.deleteDeployment(mine.id);
      const after = await store.resolveModel(me.id, 'pair');
      t.same(after?.kind === 'alias' && after.targets.map((g) => g.deployment.id), [theirs.id], 'a deleted target is skipped');
    });

    await t.test('usage: the serving deployment and the alias are recorded and listed', async (t) => {
      const { store, clock } = await fresh(t);
      const base = {
        at: clock.iso(), tenantId: 'ten_a', keyId: 'key_1', connectorId: 'con_1', protocol: 'openai.chat' as const, stream: true,
        status: 200, inputTokens: 1, outputTokens: 2, ttftMs: 5, durationMs: 9,
      };
      await store.recordUsage([
        { ...base, id: 'r1', deploymentId: 'dep_2', aliasId: 'als_1' },
        { ...base, id: 'r2', at: clock.iso(1000), deploymentId: 'dep_1' },
        { ...base, id: 'r3', tenantId: 'ten_b', deploymentId: 'dep_1', aliasId: null },
      ]);
      const listed = await store.listUsageRecords({ tenantId: 'ten_a', from: clock.iso(-60_000), to: clock.iso(60_000) });
      t.same(listed.map((r) => [r.id, r.deploymentId, r.aliasId]), [['r2', 'dep_1', null], ['r1', 'dep_2', 'als_1']], 'newest first, one tenant');
      t.same(listed[1], { ...base, id: 'r1', deploymentId: 'dep_2', aliasId: 'als_1' }, 'every field read back');
      t.same((await store.listUsageRecords({ tenantId: 'ten_a', from: clock.iso(-60_000), to: clock.iso(60_000), limit: 1 })).map((r) => r.id), ['r2']);
      const byTarget = await store.queryUsage({ tenantId: 'ten_a', from: clock.iso(-HOUR), to: clock.iso(HOUR), bucketMs: 2 * HOUR, deploymentId: 'dep_2' });
      t.equal(byTarget.totals.requests, 1, 'rollups count the serving deployment');
      await t.rejects(store.listUsageRecords({ tenantId: 'ten_a', from: clock.iso(), to: clock.iso(-1) }), invalid);
      await t.rejects(store.recordUsage([{ ...base, id: 'r4', deploymentId: 'dep_1', aliasId: '' }]), invalid);
    });

    await t.test('usage: totals and buckets match the recorded records exactly', async (t) => {
      const { store, clock } = await fresh(t);
      const fromMs = floorHour(clock.ms) - 10 * HOUR;
      const from = iso(fromMs);
      const to = iso(fromMs + 10 * HOUR);
      let n = 0;
      const rec = (over: Partial<UsageRecord>): UsageRecord => ({
        id: `req_${++n}`, at: from, tenantId: 'ten_a', keyId: 'key_1', deploymentId: 'dep_1', connectorId: 'con_1',
        protocol: 'openai.chat', stream: false, status: 200, inputTokens: 10, outputTokens: 20, ttftMs: null,
        durationMs: 100, ...over,
      });
      const records: UsageRecord[] = [];
      for (let i = 0; i < 120; i++) {
        records.push(
          rec({
            at: iso(fromMs + i * (5 * 60_000 - 1)),
            keyId: i % 3 === 0 ? 'key_2' : 'key_1',
            deploymentId: i % 4 === 0 ? 'dep_2' : 'dep_1',
            status: i % 10 === 0 ? 502 : i % 17 === 0 ? 429 : i % 23 === 0 ? 404 : 200,
            inputTokens: i * 3,
            outputTokens: i % 5,
            stream: i % 2 === 0,
            ttftMs: i % 2 === 0 ? i : null,
            durationMs: 50 + i,
            protocol: i % 3 === 1 ? 'anthropic.messages' : 'openai.chat',
          }),
        );
      }
      const otherTenant = rec({ tenantId: 'ten_b', at: iso(fromMs + 5_000), inputTokens: 999 });
      const atTo = rec({ at: to, inputTokens: 555 });
      const beforeFrom = rec({ at: iso(fromMs - 1), inputTokens: 777 });
      await store.recordUsage(records.slice(0, 50));
      await store.recordUsage([...records.slice(50), otherTenant, atTo, beforeFrom]);
      await store.recordUsage(records.slice(10, 20));
      await store.recordUsage([records[30]!, records[30]!, records[31]!]);
      await store.recordUsage([]);

      /** The expected report, computed here from the records (not by the stores' code). */
      const expect = (pick: (r: UsageRecord) => boolean, bucketMs: number, count: number) => {
        const zero = (): UsageTotals => ({
          requests: 0, inputTokens: 0, outputTokens: 0, errors: 0, clientErrors: 0, serverErrors: 0, durationMsSum: 0, ttftMsSum: 0, ttftCount: 0,
        });
        const buckets = Array.from({ length: count }, (_, i) => ({ start: iso(fromMs + i * bucketMs), ...zero() }));
        const totals = zero();
        for (const r of records.filter(pick)) {
          const b = buckets[Math.floor((Date.parse(r.at) - fromMs) / bucketMs)]!;
          for (const x of [b, totals]) {
            x.requests++;
            x.inputTokens += r.inputTokens;
            x.outputTokens += r.outputTokens;
            if (r.status >= 400) x.errors++;
            if (r.status >= 400 && r.status < 500) x.clientErrors++;
            if (r.status >= 500) x.serverErrors++;
            x.durationMsSum += r.durationMs;
            if (r.ttftMs !== null) {
              x.ttftMsSum += r.ttftMs;
              x.ttftCount++;
            }
          }
        }
        return { buckets, totals };
      };
      const all = await store.queryUsage({ tenantId: 'ten_a', from, to, bucketMs: HOUR });
      t.same(all, { from, to, bucketMs: HOUR, ...expect(() => true, HOUR, 10) }, 'records re-sent count once; ends excluded');
      t.equal(all.totals.requests, 120);
      t.ok(all.totals.clientErrors > 0 && all.totals.serverErrors > 0 && all.totals.ttftCount === 60, 'the sample has every kind');
      t.same(
        await store.queryUsage({ tenantId: 'ten_a', from, to, bucketMs: 3 * HOUR }),
        { from, to, bucketMs: 3 * HOUR, ...expect(() => true, 3 * HOUR, 4) },
        'a partial last bucket',
      );
      t.same(
        (await store.queryUsage({ tenantId: 'ten_a', from, to, bucketMs: HOUR, deploymentId: 'dep_2' })).buckets,
        expect((r) => r.deploymentId === 'dep_2', HOUR, 10).buckets,
        'filter by deployment',
      );
      t.same(
        (await store.queryUsage({ tenantId: 'ten_a', from, to, bucketMs: 2 * HOUR, keyId: 'key_2', deploymentId: 'dep_1' })).totals,
        expect((r) => r.keyId === 'key_2' && r.deploymentId === 'dep_1', 2 * HOUR, 5).totals,
        'filter by key and deployment',
      );
      const b = await store.queryUsage({ tenantId: 'ten_b', from, to, bucketMs: 10 * HOUR });
      t.match(b.totals, { requests: 1, inputTokens: 999, outputTokens: 20, errors: 0, durationMsSum: 100 }, 'tenants never see each other’s usage');
      const empty = await store.queryUsage({ tenantId: 'ten_c', from, to, bucketMs: 5 * HOUR });
      t.same(empty.buckets.map((x) => x.requests), [0, 0], 'empty buckets are listed');
      const widened = await store.queryUsage({ tenantId: 'ten_a', from: iso(fromMs + 30 * 60_000), to: iso(fromMs + 9 * HOUR + 1), bucketMs: HOUR });
      t.same(widened, all, 'a range is widened to whole hours (usage is kept per hour), and says so');
      const offset = await store.queryUsage({ tenantId: 'ten_a', from: `${iso(fromMs + HOUR).slice(0, 19)}+01:00`, to, bucketMs: 5 * HOUR });
      t.equal(offset.from, from, 'instants are normalised to UTC');

      await t.rejects(store.queryUsage({ tenantId: 'ten_a', from: to, to: from, bucketMs: HOUR }), invalid);
      await t.rejects(store.queryUsage({ tenantId: 'ten_a', from, to, bucketMs: 60_000 }), { ...invalid, field: 'query.bucketMs' }, 'buckets are whole hours');
      await t.rejects(store.queryUsage({ tenantId: 'ten_a', from, to, bucketMs: 90 * 60_000 }), invalid);
      await t.rejects(store.queryUsage({ tenantId: 'ten_a', from, to: iso(fromMs + 10_001 * HOUR), bucketMs: HOUR }), invalid, 'too many buckets');
      await t.rejects(store.recordUsage([rec({ status: 42 })]), invalid);
      await t.rejects(store.recordUsage([rec({ protocol: 'smtp' as never })]), invalid);
      await t.rejects(store.recordUsage([rec({ inputTokens: -1 })]), invalid);
      await t.rejects(store.recordUsage([rec({ at: 'yesterday' })]), invalid);
      t.same((await store.queryUsage({ tenantId: 'ten_a', from, to, bucketMs: HOUR })).totals, all.totals, 'a refused batch stores nothing');
    });

    await t.test('usage retention: rollups outlive the raw records; hours past the rollup retention are gone', async (t) => {
      const { store, clock, h } = await fresh(t);
      const { rawMs, rollupMs } = DEFAULT_USAGE_RETENTION;
      const hourA = floorHour(clock.ms) - 2 * HOUR;
      let n = 0;
      const rec = (atMs: number, over: Partial<UsageRecord> = {}): UsageRecord => ({
        id: `ret_${++n}`, at: iso(atMs), tenantId: 'ten_r', keyId: 'key_1', deploymentId: 'dep_1', connectorId: 'con_1',
        protocol: 'openai.chat', stream: true, status: 200, inputTokens: 5, outputTokens: 7, ttftMs: 30, durationMs: 90, ...over,
      });
      const q = (fromMs: number, hours: number) => ({ tenantId: 'ten_r', from: iso(fromMs), to: iso(fromMs + hours * HOUR), bucketMs: HOUR });
      const early = rec(hourA - HOUR + 60_000);
      await store.recordUsage([early, rec(hourA + 60_000), rec(hourA + 120_000, { status: 503, ttftMs: null })]);
      const before = await store.queryUsage(q(hourA - HOUR, 2));
      t.same(before.buckets.map((b) => b.requests), [1, 2]);

      clock.advance(rawMs + DAY);
      await h.prune();
      t.same(await store.queryUsage(q(hourA - HOUR, 2)), before, 'past the raw retention the hourly rollups still count every request');

      // Move to the instant where hourA starts exactly rollupMs ago: hourA is still kept, the hour before is not.
      clock.ms = hourA + rollupMs;
      const late = rec(clock.ms);
      await store.recordUsage([late]);
      await h.prune();
      const after = await store.queryUsage(q(hourA - HOUR, 2));
      t.same(after.buckets.map((b) => b.requests), [0, 2], 'an hour that started more than the rollup retention ago is gone');
      t.same(after.buckets[1], before.buckets[1], 'the hour at the edge is kept whole');
      t.equal((await store.queryUsage(q(floorHour(clock.ms), 1))).totals.requests, 1, 'recent usage is counted');
      clock.advance(HOUR);
      await h.prune();
      t.equal((await store.queryUsage(q(hourA - HOUR, 2))).totals.requests, 0, 'an hour later that hour is gone too');
    });

    await t.test('usage: no text beyond the record fields is persisted', async (t) => {
      const { store, h, clock } = await fresh(t);
      const r = {
        id: 'req_x', at: clock.iso(), tenantId: 'ten_a', keyId: 'key_1', deploymentId: 'dep_1',
        connectorId: 'con_1', protocol: 'openai.chat', stream: true, status: 200, inputTokens: 1, outputTokens: 2,
        ttftMs: 5, durationMs: 9, prompt: 'PROMPT-TEXT', completion: 'COMPLETION-TEXT',
      } as UsageRecord;
      await store.recordUsage([r]);
      const raw = await h.dumpRaw();
      t.ok(raw.includes('req_x'), 'the record is stored');
      t.notOk(raw.includes('PROMPT-TEXT'));
      t.notOk(raw.includes('COMPLETION-TEXT'));
    });

    await t.test('parallel writers on one store lose nothing', async (t) => {
      const { store } = await fresh(t);
      const a = await store.createTenant({ name: 'A' });
      const keys = await Promise.all(Array.from({ length: 20 }, (_, i) => store.createApiKey({ tenantId: a.id, name: `k${i}` })));
      const deps = await Promise.allSettled(Array.from({ length: 6 }, () => store.createDeployment({ tenantId: a.id, name: 'race' })));
      t.equal(deps.filter((d) => d.status === 'fulfilled').length, 1, 'one of six racing creates wins');
      t.ok(deps.filter((d) => d.status === 'rejected').every((d) => (d as PromiseRejectedResult).reason?.name === 'StoreConflictError'));
      t.equal((await store.listApiKeys(a.id)).length, 20);
      for (const k of keys) t.equal((await store.findApiKeyBySecret(k.secret))?.id, k.record.id);
    });

    await t.test('racing redemptions never exceed maxUses', async (t) => {
      const { store, clock } = await fresh(t);
      const owner = await store.createTenant({ name: 'Owner' });
      const dep = await store.createDeployment({ tenantId: owner.id, name: 'm' });
      const tenants = await Promise.all(Array.from({ length: 6 }, (_, i) => store.createTenant({ name: `t${i}` })));
      const inv = await store.createInvite({ deploymentId: dep.id, expiresAt: clock.iso(60_000), maxUses: 3 });
      const results = await Promise.allSettled(tenants.map((x) => store.redeemInvite({ code: inv.secret, tenantId: x.id })));
      t.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
      t.equal((await store.listShares(dep.id)).length, 3);
      t.equal((await store.listInvites(dep.id))[0]?.uses, 3);
      const same = await store.createInvite({ deploymentId: dep.id, expiresAt: clock.iso(60_000), maxUses: 5 });
      const late = await store.createTenant({ name: 'late' });
      const twice = await Promise.allSettled([1, 2, 3].map(() => store.redeemInvite({ code: same.secret, tenantId: late.id })));
      t.equal(twice.filter((r) => r.status === 'fulfilled').length, 1, 'one tenant gets one share');
      t.equal((await store.listInvites(dep.id)).find((i) => i.id === same.record.id)?.uses, 1, 'losers give their use back');
    });
  });
}
