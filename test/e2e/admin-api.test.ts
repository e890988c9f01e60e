import t from 'tap';
import { createHash } from 'node:crypto';
import { AdminClient, EventTap, readTree, startDevStack, type DevStack } from '../support/index.js';

const ADMIN = 'ta-test-operator-token-0123456789abcdef';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

let stack: DevStack;
let events: EventTap;
let base: string;
/** Every secret the API showed us; none may appear in the data dir, and none twice. */
const secrets: string[] = [];
const remember = (s: string) => {
  secrets.push(s);
  return s;
};

const op = () => new AdminClient(base, { bearer: ADMIN });
let A: AdminClient;
let B: AdminClient;
let tenantA: string;
let tenantB: string;

t.before(async () => {
  stack = await startDevStack([], { TOKIOS_ADMIN_TOKEN: ADMIN });
  base = `http://127.0.0.1:${stack.dev.port}`;
  events = await EventTap.start(stack.nats.url);
});

t.teardown(async () => {
  await events.close();
  await stack.close();
});

const err = (code: string, field?: string | null) => (field === undefined ? { error: { code } } : { error: { code, field } });

t.test('operator routes: tenants and console secrets', async (t) => {
  const anon = new AdminClient(base);
  let r = await anon.post('/tenants', { name: 'x' });
  t.equal(r.status, 401);
  t.same(r.body, { error: { code: 'unauthorized', message: 'This route needs the operator token (TOKIOS_ADMIN_TOKEN).', field: 'header.authorization' } });
  r = await op().as({ bearer: 'not-the-token' }).get('/tenants');
  t.equal(r.status, 401);

  const before = (await op().get('/tenants')).body.data.length;
  for (const [body, raw, ctype, status, code, field] of [
    [{ name: '' }, undefined, undefined, 400, 'invalid_request', 'body.name'],
    [{ name: 'ok', extra: 1 }, undefined, undefined, 400, 'invalid_request', 'body'],
    [{}, undefined, undefined, 400, 'invalid_request', 'body.name'],
    [undefined, '{"name":', undefined, 400, 'invalid_json', 'body'],
    [undefined, 'name=x', 'application/x-www-form-urlencoded', 415, 'unsupported_media_type', 'header.content-type'],
    [undefined, JSON.stringify({ name: 'x'.repeat(70_000) }), undefined, 413, 'body_too_large', null],
  ] as const) {
    const res = await op().call('POST', '/tenants', body, { ...(raw !== undefined ? { raw } : {}), ...(ctype ? { headers: { 'content-type': ctype } } : {}) });
    t.equal(res.status, status, `${JSON.stringify(body ?? raw).slice(0, 40)} → ${status}`);
    t.match(res.body, err(code, field));
    t.type(res.body.error.message, 'string');
  }
  t.equal((await op().get('/tenants')).body.data.length, before, 'nothing written by bad input');

  r = await op().post('/tenants', { name: 'tenant-a' });
  t.equal(r.status, 201);
  t.match(r.body, { tenant: { id: /^ten_/, name: 'tenant-a', console: null } });
  tenantA = r.body.tenant.id;
  tenantB = (await op().post('/tenants', { name: 'tenant-b' })).body.tenant.id;
  t.ok((await op().get('/tenants')).body.data.some((x: { id: string }) => x.id === tenantB));

  r = await op().post(`/tenants/${tenantA}/console-secret`);
  t.equal(r.status, 201);
  t.match(r.body, { tenant: { id: tenantA, console: { prefix: /^tc-tokios-/ } }, secret: /^tc-tokios-[A-Za-z0-9]{40}$/ });
  t.notOk('hash' in r.body.tenant.console, 'no hash in API views');
  const first = r.body.secret as string;
  r = await op().post(`/tenants/${tenantA}/console-secret`);
  const secretA = remember(r.body.secret);
  t.not(secretA, first, 'issuing again rotates');
  t.equal((await new AdminClient(base, { bearer: first }).get('/keys')).status, 401, 'the old console secret stops working');
  A = new AdminClient(base, { bearer: secretA });
  B = new AdminClient(base, { bearer: remember((await op().post(`/tenants/${tenantB}/console-secret`)).body.secret) });

  t.equal((await op().post('/tenants/ten_0000000000000000/console-secret')).status, 404);
  r = await op().post('/tenants/bad id!/console-secret');
  t.equal(r.status, 400);
  t.match(r.body, err('invalid_request', 'params.id'));

  r = await A.get('/tenants');
  t.equal(r.status, 403, 'a console secret is not the operator token');
  t.match(r.body, err('forbidden'));

  r = await A.get('/me');
  t.match(r.body, { tenant: { id: tenantA, name: 'tenant-a' }, via: 'console' });
});

t.test('API keys: created once, listed by prefix, limits, revoke with events', async (t) => {
  let r = await A.post('/keys', { name: 'prod', limits: { requestsPerMinute: 60 } });
  t.equal(r.status, 201);
  const secret = remember(r.body.secret);
  t.match(r.body, { key: { id: /^key_/, tenantId: tenantA, name: 'prod', prefix: secret.slice(0, 14), revokedAt: null, limits: { requestsPerMinute: 60 } } });
  t.notOk('hash' in r.body.key);
  const keyId = r.body.key.id as string;

  r = await A.get('/keys');
  t.equal(r.status, 200);
  t.equal(r.body.data.length, 1);
  t.notOk(JSON.stringify(r.body).includes(secret), 'the list never shows the secret');
  t.notOk(JSON.stringify((await A.get(`/keys/${keyId}`)).body).includes(secret));

  for (const body of [{ limits: { requestsPerMinute: 0 } }, { limits: { rpm: 5 } }, { name: 7 }, { name: 'x'.repeat(200) }, []]) {
    r = await A.post('/keys', body);
    t.equal(r.status, 400, `bad key body ${JSON.stringify(body).slice(0, 40)}`);
    t.match(r.body, err('invalid_request'));
  }
  t.equal((await A.get('/keys')).body.data.length, 1, 'nothing half-written');

  r = await A.put(`/keys/${keyId}/limits`, { requestsPerMinute: 10, tokensPerMinute: 1000 });
  t.equal(r.status, 200);
  t.same(r.body.key.limits, { requestsPerMinute: 10, tokensPerMinute: 1000 });
  t.same(await events.waitFor('tokios.ctl.key_changed', (d) => d.keyId === keyId), { keyId, hash: sha(secret) });
  r = await A.put(`/keys/${keyId}/limits`, { requestsPerMinute: -1 });
  t.equal(r.status, 400);
  t.match(r.body, err('invalid_request', 'body.requestsPerMinute'));
  t.same((await A.get(`/keys/${keyId}`)).body.key.limits, { requestsPerMinute: 10, tokensPerMinute: 1000 }, 'unchanged by bad input');
  r = await A.put(`/keys/${keyId}/limits`, null);
  t.equal(r.body.key.limits, null, 'null clears');

  // tenant isolation: B sees A's key as missing, exactly like an unknown id
  const unknown = await B.get('/keys/key_0000000000000000');
  for (const [method, path, body] of [
    ['GET', `/keys/${keyId}`], ['POST', `/keys/${keyId}/revoke`], ['PUT', `/keys/${keyId}/limits`, { requestsPerMinute: 1 }],
  ] as const) {
    r = await B.call(method, path, body);
    t.equal(r.status, 404, `B ${method} ${path}`);
    t.equal(r.body.error.code, unknown.body.error.code);
  }
  t.same((await B.get('/keys')).body.data, [], "B's list does not show A's keys");
  t.equal((await A.get(`/keys/${keyId}`)).body.key.revokedAt, null, "B could not revoke A's key");

  r = await A.post(`/keys/${keyId}/revoke`);
  t.equal(r.status, 200);
  t.type(r.body.key.revokedAt, 'string');
  t.same(await events.waitFor('tokios.ctl.key_revoked', (d) => d.keyId === keyId), { keyId, hash: sha(secret) });
  t.equal((await A.post(`/keys/${keyId}/revoke`)).status, 200, 'revoking again is harmless');
});

t.test('deployments and tunnel tokens, isolated per tenant', async (t) => {
  let r = await A.post('/deployments', { name: 'has space' });
  t.equal(r.status, 400);
  t.match(r.body, err('invalid_request', 'body.name'));
  r = await A.post('/deployments', { name: 'llama3' });
  t.equal(r.status, 201);
  const dep = r.body.deployment;
  t.match(dep, { id: /^dep_/, tenantId: tenantA, name: 'llama3' });
  await events.waitFor('tokios.ctl.deployment_changed', (d) => d.deploymentId === dep.id);
  r = await A.post('/deployments', { name: 'llama3' });
  t.equal(r.status, 409);
  t.match(r.body, err('conflict'));
  t.equal((await B.post('/deployments', { name: 'llama3' })).status, 201, 'names are per tenant');

  r = await A.get('/deployments');
  t.equal(r.body.data.length, 1);
  t.same(r.body.data[0].status, { known: true, online: false, connectors: [] });

  r = await A.post(`/deployments/${dep.id}/tokens`);
  t.equal(r.status, 201);
  const tok = remember(r.body.secret);
  t.match(r.body, { token: { id: /^tok_/, deploymentId: dep.id, prefix: tok.slice(0, 14), revokedAt: null }, secret: /^tt-tokios-/ });
  const tokenId = r.body.token.id as string;
  const second = await A.post(`/deployments/${dep.id}/tokens`);
  remember(second.body.secret);
  t.equal((await A.get(`/deployments/${dep.id}/tokens`)).body.data.length, 2);

  for (const [method, path] of [
    ['GET', `/deployments/${dep.id}`], ['DELETE', `/deployments/${dep.id}`], ['GET', `/deployments/${dep.id}/tokens`],
    ['POST', `/deployments/${dep.id}/tokens`], ['POST', `/tokens/${tokenId}/revoke`],
  ] as const) {
    r = await B.call(method, path);
    t.equal(r.status, 404, `B ${method} ${path}`);
    t.match(r.body, err('not_found'));
  }
  t.equal((await A.get(`/deployments/${dep.id}/tokens`)).body.data.length, 2, "B created no token on A's deployment");
  t.notOk((await B.get('/deployments')).body.data.some((d: { id: string }) => d.id === dep.id));

  r = await A.post(`/tokens/${tokenId}/revoke`);
  t.equal(r.status, 200);
  t.type(r.body.token.revokedAt, 'string');
  t.same(await events.waitFor('tokios.ctl.token_revoked', (d) => d.tokenId === tokenId), { tokenId, deploymentId: dep.id });
  t.equal((await A.post('/tokens/tok_0000000000000000/revoke')).status, 404);

  r = await A.del(`/deployments/${dep.id}`);
  t.equal(r.status, 200);
  await events.waitFor('tokios.ctl.token_revoked', (d) => d.tokenId === second.body.token.id);
  t.equal((await A.get(`/deployments/${dep.id}`)).status, 404);
  t.equal((await A.del(`/deployments/${dep.id}`)).status, 404);
});

t.test('shared access: invites, redeem, shares', async (t) => {
  const dep = (await A.post('/deployments', { name: 'shared-model' })).body.deployment;
  for (const body of [
    { maxUses: 0 }, { expiresAt: '2001-01-01T00:00:00Z' }, { expiresAt: 'tomorrow' },
    { expiresAt: new Date(Date.now() + 3_600_000).toISOString(), expiresInHours: 2 }, { expiresInHours: -1 }, { maxUses: 1, code: 'x' },
  ]) {
    const r = await A.post(`/deployments/${dep.id}/invites`, body);
    t.equal(r.status, 400, `bad invite ${JSON.stringify(body)}`);
    t.match(r.body, err('invalid_request'));
  }
  t.same((await A.get(`/deployments/${dep.id}/invites`)).body.data, [], 'no invite half-written');

  let r = await A.post(`/deployments/${dep.id}/invites`, { expiresInHours: 1, maxUses: 1 });
  t.equal(r.status, 201);
  const code = remember(r.body.code);
  t.match(r.body, { invite: { id: /^inv_/, deploymentId: dep.id, maxUses: 1, uses: 0, prefix: code.slice(0, 14) }, code: /^ti-tokios-/ });
  t.equal((await B.get(`/deployments/${dep.id}/invites`)).status, 404, "B cannot list A's invites");

  r = await A.post('/shared', { code });
  t.equal(r.status, 400, 'cannot redeem for own deployment');
  t.match(r.body, err('invite_rejected', 'body.code'));
  t.equal((await B.post('/shared', { code: 'ti-tokios-nope' })).status, 400);
  t.equal((await B.post('/shared', {})).status, 400);

  r = await B.post('/shared', { code });
  t.equal(r.status, 201);
  t.match(r.body, { share: { deploymentId: dep.id, tenantId: tenantB, ownerTenantId: tenantA }, deployment: { id: dep.id, name: 'shared-model' } });
  const shareId = r.body.share.id as string;
  await events.waitFor('tokios.ctl.deployment_changed', (d) => d.deploymentId === dep.id && d.tenantId === tenantB);
  r = await B.post('/shared', { code });
  t.equal(r.status, 400, 'used up');

  t.match((await A.get(`/deployments/${dep.id}/shares`)).body.data, [{ id: shareId, tenantId: tenantB }]);
  r = await B.get('/shared');
  t.match(r.body.data, [{ share: { id: shareId }, deployment: { id: dep.id, status: { known: true, online: false } } }]);
  t.same(Object.keys(r.body.data[0].deployment.status).sort(), ['known', 'online'], 'a receiver gets no connector details (issue 8 finding 4)');
  t.equal((await B.get(`/deployments/${dep.id}/shares`)).status, 404, "B cannot list the owner's shares");

  r = await B.del(`/shares/${shareId}`);
  t.equal(r.status, 200, 'the receiver can leave');
  t.same((await B.get('/shared')).body.data, []);
  t.equal((await B.del(`/shares/${shareId}`)).status, 404);

  const inv = (await A.post(`/deployments/${dep.id}/invites`, { maxUses: 3 })).body;
  remember(inv.code);
  t.equal((await B.post(`/invites/${inv.invite.id}/revoke`)).status, 404, "B cannot revoke A's invite");
  r = await A.post(`/invites/${inv.invite.id}/revoke`);
  t.equal(r.status, 200);
  t.type(r.body.invite.revokedAt, 'string');
  t.match((await B.post('/shared', { code: inv.code })).body, err('invite_rejected'));
});

t.test('usage: buckets and totals of my own traffic only', async (t) => {
  const now = Date.now();
  const hour = 3_600_000;
  const from = new Date(Math.floor(now / hour) * hour - 3 * hour).toISOString();
  const to = new Date(Math.floor(now / hour) * hour + hour).toISOString();
  const rec = (i: number, tenantId: string, at: number) => ({
    id: `u${i}-${tenantId}`, at: new Date(at).toISOString(), tenantId, keyId: 'key_x', deploymentId: 'dep_x', connectorId: 'con_x',
    protocol: 'openai.chat' as const, stream: true, status: i === 2 ? 500 : 200, inputTokens: 10, outputTokens: 5, ttftMs: 10, durationMs: 20,
  });
  await stack.dev.store.recordUsage([rec(1, tenantA, now - 2 * hour), rec(2, tenantA, now), rec(3, tenantA, now), rec(4, tenantB, now)]);
  let r = await A.get(`/usage?from=${from}&to=${to}&bucket=1h`);
  t.equal(r.status, 200);
  t.equal(r.body.buckets.length, 4);
  t.same(r.body.totals, { requests: 3, inputTokens: 30, outputTokens: 15, errors: 1, clientErrors: 0, serverErrors: 1, durationMsSum: 60, ttftMsSum: 30, ttftCount: 3 });
  t.equal(r.body.buckets[3].requests, 2);
  t.equal((await B.get(`/usage?from=${from}&to=${to}&bucket=1h`)).body.totals.requests, 1);
  t.equal((await A.get('/usage')).body.buckets.length, 24, 'defaults: the last 24 whole hours, by hour');
  for (const q of ['bucket=1x', 'bucket=0s', 'bucket=30m', `from=${to}&to=${from}`, 'from=yesterday', 'bucket=1s&from=2020-01-01T00:00:00Z', 'what=1']) {
    r = await A.get(`/usage?${q}`);
    t.equal(r.status, 400, `bad usage query ${q}`);
    t.match(r.body, err('invalid_request'));
  }
});

t.test('dashboard session: cookie login, CSRF header, logout', async (t) => {
  const anon = new AdminClient(base);
  let r = await anon.post('/session', { secret: 'tc-tokios-wrong' });
  t.equal(r.status, 401);
  t.match(r.body, err('unauthorized', 'body.secret'));
  t.equal((await anon.post('/session', {})).status, 400);

  const secret = remember((await op().post(`/tenants/${tenantB}/console-secret`)).body.secret);
  B = new AdminClient(base, { bearer: secret });
  r = await anon.post('/session', { secret });
  t.equal(r.status, 200);
  const setCookie = r.headers.get('set-cookie') ?? '';
  t.match(setCookie, /^tokios_session=[^;]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/);
  t.notOk(setCookie.includes(secret), 'the cookie does not carry the secret');
  const cookie = setCookie.split(';')[0]!;
  const s = anon.as({ cookie });
  t.match((await s.get('/me')).body, { tenant: { id: tenantB }, via: 'session' });
  r = await s.post('/keys', { name: 'from-cookie' });
  t.equal(r.status, 403, 'a cookie-authenticated change needs the dashboard header');
  r = await anon.as({ cookie, headers: { 'x-tokios-dashboard': '1' } }).post('/keys', { name: 'from-cookie' });
  t.equal(r.status, 201);
  remember(r.body.secret);
  t.equal((await anon.as({ cookie: `${cookie.slice(0, -2)}xx` }).get('/me')).status, 401, 'tampered cookie');

  // rotating the console secret ends sessions made with the old one
  B = new AdminClient(base, { bearer: remember((await op().post(`/tenants/${tenantB}/console-secret`)).body.secret) });
  t.equal((await s.get('/me')).status, 401);
  r = await anon.del('/session');
  t.equal(r.status, 204);
  t.match(r.headers.get('set-cookie') ?? '', /Max-Age=0/);
});

t.test('logout revokes the session on the server: a copy of the cookie stops working (issue 8 finding 10)', async (t) => {
  const anon = new AdminClient(base);
  const secret = remember((await op().post(`/tenants/${tenantB}/console-secret`)).body.secret);
  B = new AdminClient(base, { bearer: secret });
  const login = async (): Promise<string> => ((await anon.post('/session', { secret })).headers.get('set-cookie') ?? '').split(';')[0]!;
  const cookie = await login();
  const other = await login();
  t.not(cookie, other, 'each login is its own session');
  const copy = anon.as({ cookie });
  t.equal((await copy.get('/me')).status, 200, 'the session works');
  const r = await anon.as({ cookie }).del('/session');
  t.equal(r.status, 204);
  t.match(r.headers.get('set-cookie') ?? '', /Max-Age=0/, 'the browser is told to drop it');
  const after = await copy.get('/me');
  t.equal(after.status, 401, 'the copied cookie is refused after logout');
  t.match(after.body, err('unauthorized'));
  t.equal((await anon.as({ cookie, headers: { 'x-tokios-dashboard': '1' } }).post('/keys', { name: 'after-logout' })).status, 401, 'changes too');
  t.equal((await anon.as({ cookie: other }).get('/me')).status, 200, "the tenant's other session stays");
  t.equal((await anon.as({ cookie }).del('/session')).status, 204, 'logging out again is harmless');
  t.equal((await anon.as({ cookie: other }).del('/session')).status, 204);
  t.equal((await anon.as({ cookie: other }).get('/me')).status, 401, 'that one ends with its own logout');
});

t.test('the operator acts as a tenant with x-tokios-tenant', async (t) => {
  let r = await op().get('/keys');
  t.equal(r.status, 400);
  t.match(r.body, err('invalid_request', 'header.x-tokios-tenant'));
  r = await op().as({ bearer: ADMIN, headers: { 'x-tokios-tenant': tenantA } }).get('/keys');
  t.equal(r.status, 200);
  t.ok(r.body.data.every((k: { tenantId: string }) => k.tenantId === tenantA));
  t.equal((await op().as({ bearer: ADMIN, headers: { 'x-tokios-tenant': 'ten_0000000000000000' } }).get('/keys')).status, 404);
  const key = (await A.post('/keys', { name: 'op-revokes' })).body;
  remember(key.secret);
  t.equal((await op().post(`/keys/${key.key.id}/revoke`)).status, 200, 'by id, no tenant needed');
});

t.test('unknown routes and methods', async (t) => {
  const r = await A.get('/nothing');
  t.equal(r.status, 404);
  t.same(r.body, { error: { code: 'route_not_found', message: 'No route GET /admin/v1/nothing.', field: null } });
  t.equal((await A.call('PATCH', '/keys')).status, 404);
});

t.test('no secret in clear anywhere in the store, and each shown once', async (t) => {
  t.ok(secrets.length >= 10, `${secrets.length} secrets created`);
  t.equal(new Set(secrets).size, secrets.length, 'all distinct');
  const files = await readTree(stack.seeded.dataDir);
  t.ok(files.length > 0);
  for (const s of secrets) {
    const hit = files.find((f) => f.text.includes(s));
    t.notOk(hit, `${s.slice(0, 14)}… is not in ${hit?.path ?? 'any file'}`);
  }
  // And no list or show route ever returns one.
  const dumps = JSON.stringify([
    (await A.get('/keys')).body, (await B.get('/keys')).body, (await op().get('/tenants')).body, (await A.get('/deployments')).body,
  ]);
  for (const s of secrets) t.notOk(dumps.includes(s));
});

t.test('aliases over the API: zod validation names the field, tenant boundary, control events', async (t) => {
  const tenant = (await op().post('/tenants', { name: 'alias-co' })).body.tenant.id as string;
  const other = (await op().post('/tenants', { name: 'alias-other' })).body.tenant.id as string;
  const me = op().as({ bearer: ADMIN, headers: { 'x-tokios-tenant': tenant } });
  const them = op().as({ bearer: ADMIN, headers: { 'x-tokios-tenant': other } });
  const a = (await me.post('/deployments', { name: 'a' })).body.deployment;
  const b = (await me.post('/deployments', { name: 'b' })).body.deployment;
  await them.post('/deployments', { name: 'theirs' });

  for (const [body, field] of [
    [{ name: 'x', targets: [] }, 'body.targets'],
    [{ name: 'x', targets: Array.from({ length: 9 }, () => 'a') }, 'body.targets'],
    [{ name: 'x', targets: [{ deployment: 'a', weight: 0 }] }, 'body.targets.0.weight'],
    [{ name: 'x', targets: [{ deployment: 'a', weight: 1001 }] }, 'body.targets.0.weight'],
    [{ name: 'x', mode: 'random', targets: ['a'] }, 'body.mode'],
    [{ name: 'x y', targets: ['a'] }, 'body.name'],
    [{ name: 'x', targets: ['a'], extra: 1 }, 'body'],
    [{ name: 'x', targets: ['a', 'a'] }, 'body.targets.1'],
    [{ name: 'x', targets: ['theirs'] }, 'body.targets.0'],
    [{ name: 'x', targets: [`${other}/theirs`] }, 'body.targets.0'],
    [{ name: 'x', targets: ['x'] }, 'body.targets.0'],
  ] as const) {
    const r = await me.post('/aliases', body);
    t.equal(r.status, 400, `${JSON.stringify(body).slice(0, 60)} → 400`);
    t.match(r.body, err('invalid_request', field));
  }
  t.equal((await op().post('/aliases', { name: 'x', targets: ['a'] })).body.error.field, 'header.x-tokios-tenant', 'the operator names a tenant');

  const created = await me.post('/aliases', { name: 'pair', mode: 'weighted', targets: [{ deployment: 'a', weight: 2 }, 'b'] });
  t.equal(created.status, 201);
  const alias = created.body.alias;
  t.match(alias, { name: 'pair', mode: 'weighted', targets: [{ deploymentId: a.id, name: 'a', weight: 2, shared: false }, { deploymentId: b.id, name: 'b', weight: 1 }] });
  await events.waitFor('tokios.ctl.alias_changed', (d) => d.aliasId === alias.id && d.tenantId === tenant);
  t.equal((await me.post('/aliases', { name: 'pair', targets: ['a'] })).status, 409, 'names are unique');
  t.equal((await me.post('/deployments', { name: 'pair' })).status, 409, 'a deployment cannot take an alias’s name');
  t.match((await me.post('/aliases', { name: 'nested', targets: ['pair'] })).body, err('invalid_request', 'body.targets.0'), 'no alias of an alias');

  const list = (await me.get('/aliases')).body.data;
  t.match(list, [{ id: alias.id, targets: [{ online: false }, { online: false }] }], 'listed with each target’s state');
  t.equal((await them.get(`/aliases/${alias.id}`)).status, 404, 'another tenant’s alias is not found');
  t.equal((await them.put(`/aliases/${alias.id}`, { targets: ['theirs'] })).status, 404);
  t.equal((await them.del(`/aliases/${alias.id}`)).status, 404);

  const updated = await me.put(`/aliases/${alias.id}`, { targets: ['b'] });
  t.match(updated.body.alias, { mode: 'ordered', targets: [{ name: 'b', weight: 1 }] });
  t.match((await me.put(`/aliases/${alias.id}`, { targets: ['pair'] })).body, err('invalid_request', 'body.targets.0'), 'not itself');
  t.equal((await me.del(`/aliases/${alias.id}`)).status, 200);
  t.equal((await me.get(`/aliases/${alias.id}`)).status, 404);
  t.ok(events.events.filter((e) => e.subject === 'tokios.ctl.alias_changed' && e.data.aliasId === alias.id).length >= 3, 'create, update and delete each announced');
});
