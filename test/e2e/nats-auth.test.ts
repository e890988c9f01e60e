// Issue 8 finding 1: NATS with per-role users and permissions exactly as `tokios nats-config` writes them. Every
// role does its job end to end (a request through the chain, body parts, live status, quota sharing between two
// ingress replicas, revocation events); what lies outside a role's permissions is refused by the server; a client
// without credentials cannot connect; a service with refused credentials stops with a clear message.
import t from 'tap';
import { createUser } from 'nkeys.js';
import type { NatsConnection, Status } from 'nats';
import { runAdmin } from 'tokios';
import { freePort } from '../support/ports.js';
import { SqliteStore } from '@tokios/shared/store';
import { publishControlEvent } from '@tokios/shared/control';
import {
  AdminClient, TestFabric, chat, connectAs, metric, natsAuthSetup, quickScript, scrape, slowScript, spawnCli, testFabricKey, until, within, type NatsAuthSetup,
} from '../support/index.js';

const ADMIN = 'ta-test-operator-token-natsauth-0123456';

let setup: NatsAuthSetup;
t.before(async () => {
  setup = await natsAuthSetup();
});

/** Permission errors the server reports to a client, as they arrive. */
function permissionErrors(nc: NatsConnection): { operation: string; subject: string }[] {
  const seen: { operation: string; subject: string }[] = [];
  void (async () => {
    for await (const s of nc.status() as AsyncIterable<Status>) if (s.permissionContext) seen.push(s.permissionContext);
  })();
  return seen;
}

async function refusedSubscription(nc: NatsConnection, subject: string, queue?: string): Promise<string> {
  return new Promise((resolve) => {
    nc.subscribe(subject, { ...(queue && { queue }), callback: (err) => err && resolve(err.message) });
  });
}

t.test('each role does its job on an authenticated NATS with per-role permissions', async (t) => {
  // A small max_payload so that a large body travels in Body parts (ingress → tokios.term.<id>.<rid>).
  const f = await TestFabric.start(t, { natsConfig: `max_payload: 65536\n${setup.config}` });
  // One at a time: three service processes starting at once on a loaded 2-core machine can take longer than a start timeout.
  const i1 = await f.ingress(setup.roles.ingress);
  const i2 = await f.ingress(setup.roles.ingress);
  const term = await f.terminator(setup.roles.terminator);
  const up = await f.upstream();
  const connector = await f.connector('model-a', up, term.url);
  for (const p of [i1.proc, i2.proc, term.proc]) t.match(p.output, /"auth":"nkey \(NATS_NKEY_SEED\)","msg":"nats connected"/);

  await t.test('a request through the chain, whole, streamed and with a body in parts', async (t) => {
    const client = f.client(i1);
    up.script = () => quickScript('through the fabric');
    t.equal((await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] })).choices[0]?.message.content, 'through the fabric');
    up.script = () => slowScript(5, 5);
    let text = '';
    for await (const c of await f.client(i2).chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'y' }] })) text += c.choices[0]?.delta.content ?? '';
    t.equal(text, slowScript(5, 5).chunks.join(''), 'streamed through the other replica');
    up.script = () => quickScript('big');
    const big = 'b'.repeat(300_000);
    t.equal((await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: big }] })).choices[0]?.message.content, 'big');
    t.equal((up.requests.at(-1)?.body as { messages: { content: string }[] }).messages[0]?.content.length, big.length, 'the body arrived whole (several Body parts)');
  });

  await t.test('cache-affine placement: session homes shared between the replicas, requests on the connector subject', async (t) => {
    up.script = () => quickScript('at home');
    const ask = (i: typeof i1) => f.client(i).chat.completions.create({ model: 'model-a', prompt_cache_key: 'auth-session', messages: [{ role: 'user', content: 'z' }] });
    const homes = async (i: typeof i1, name: string, labels = {}) => metric((await scrape(i.url)).samples, name, labels);
    // Earlier requests' homes may still be on the way: wait for all of them and this one.
    await until(async () => (await homes(i2, 'tokios_ingress_affinity_learned_total')) >= 2, 10_000, 'replica 2 to learn the homes of the two requests through replica 1');
    await ask(i1);
    await until(async () => (await homes(i2, 'tokios_ingress_affinity_learned_total')) >= 3, 10_000, 'replica 2 to learn the home from replica 1');
    t.equal((await ask(i2)).choices[0]?.message.content, 'at home');
    t.equal(await homes(i2, 'tokios_ingress_affinity_total', { result: 'home' }), 1, 'replica 2 sent it to the home connector\'s own subject, and a terminator took it there');
    for (const p of [i1.proc, i2.proc, term.proc]) t.notMatch(p.output, /nats refused this \(permissions\)/, `${p.name}: nothing refused`);
  });

  await t.test('live status: the ingress (GET /v1/models) and the control service ask, terminators answer', async (t) => {
    const r = await fetch(`${i1.url}/v1/models`, { headers: { authorization: `Bearer ${f.seeded.apiKey}` } });
    t.match(await r.json(), { data: [{ id: 'model-a', online: true }] });
    const port = await freePort();
    const control = spawnCli('control', ['control'], { ...f.env(setup.roles.control), TOKIOS_ADMIN_TOKEN: ADMIN, TOKIOS_CONTROL_HOST: '127.0.0.1', TOKIOS_CONTROL_PORT: String(port) });
    f.procs.push(control);
    await control.waitFor(/control listening/);
    const A = new AdminClient(`http://127.0.0.1:${port}`, { bearer: ADMIN });
    t.match((await A.get('/status')).body, { known: true, deployments: { [f.seeded.deployments['model-a']!.id]: { online: true } } });

    await t.test('quota counts are shared between the two ingress replicas', async (t) => {
      const store = await SqliteStore.open(f.seeded.dataDir, { pruneIntervalMs: 0 });
      const { secret } = await store.createApiKey({ tenantId: f.seeded.tenantId, name: 'limited', limits: { requestsPerMinute: 4 } });
      await store.close();
      up.script = () => quickScript('q');
      for (let n = 0; n < 4; n++) t.equal((await chat(i1.url, secret, {})).status, 200, `request ${n + 1} of 4 on replica 1`);
      let acceptedOnReplica2 = 0;
      for (let n = 0; n < 5; n++) {
        const s = (await chat(i2.url, secret, {})).status;
        if (s === 429) break;
        acceptedOnReplica2++;
      }
      t.ok(acceptedOnReplica2 <= 1, `replica 2 knew replica 1's counts: it accepted ${acceptedOnReplica2} more (4 without sharing)`);
    });

    await t.test('revocations: tokios admin (admin role) revokes a key, the control service (control role) a token', async (t) => {
      const store = await SqliteStore.open(f.seeded.dataDir, { pruneIntervalMs: 0 });
      const { record, secret } = await store.createApiKey({ tenantId: f.seeded.tenantId, name: 'to-revoke' });
      await store.close();
      for (const i of [i1, i2]) t.equal((await chat(i.url, secret, {})).status, 200, 'cached on both replicas');
      let out = '';
      const code = await runAdmin(['key', 'revoke', record.id], { ...f.env(setup.roles.admin), PATH: process.env.PATH }, { write: (s: string) => (out += s) }, { write: (s: string) => (out += s) });
      t.equal(code, 0, out);
      t.notMatch(out, /no NATS answered/, 'the admin role reached NATS');
      for (const i of [i1, i2]) t.equal((await chat(i.url, secret, {})).status, 401, 'refused at once (the event, not the 30 s cache expiry)');

      const dep = f.seeded.deployments['model-a']!;
      t.equal((await A.as({ bearer: ADMIN, headers: { 'x-tokios-tenant': f.seeded.tenantId } }).post(`/tokens/${dep.tokenId}/revoke`)).status, 200);
      t.equal((await within(connector.exited, 10_000, 'the connector to exit')).value.code, 1);
      t.match(connector.output, /tunnel token was revoked/);
    });
  });
});

t.test('outside its permissions a role is refused; without credentials nobody connects', async (t) => {
  const f = await TestFabric.start(t, { natsConfig: setup.config });
  const ingress = await f.ingress(setup.roles.ingress);
  const term = await f.terminator(setup.roles.terminator);
  const up = await f.upstream();
  await f.connector('model-a', up, term.url);
  const client = f.client(ingress);
  up.script = () => quickScript('still here');
  const stillServing = async (what: string) =>
    t.equal((await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] })).choices[0]?.message.content, 'still here', `serving after: ${what}`);

  const anonymous = await connectAs(f.natsUrl, undefined).then(() => 'connected', (e: { code?: string }) => e.code);
  t.equal(anonymous, 'AUTHORIZATION_VIOLATION', 'a client without credentials cannot connect');
  const stranger = await connectAs(f.natsUrl, { NATS_NKEY_SEED: new TextDecoder().decode(createUser().getSeed()) }).then(() => 'connected', (e: { code?: string }) => e.code);
  t.equal(stranger, 'AUTHORIZATION_VIOLATION', 'an nkey that is not in the config cannot connect');

  const asTerminator = await connectAs(f.natsUrl, setup.roles.terminator, 'terminator');
  const asIngress = await connectAs(f.natsUrl, setup.roles.ingress, 'ingress');
  const asControl = await connectAs(f.natsUrl, setup.roles.control, 'control');
  t.teardown(() => Promise.all([asTerminator.close(), asIngress.close(), asControl.close()]));
  const termErrors = permissionErrors(asTerminator);
  const ingressErrors = permissionErrors(asIngress);

  // A pair heartbeat is the terminator's to send (refused, silent streams would stall); it is not the ingress's.
  asTerminator.publish('tokios.in.ing_other.hb.trm_other', new Uint8Array(0));
  // Even correctly signed, a terminator's revocation never reaches anyone: the server refuses the publish.
  publishControlEvent(asTerminator, testFabricKey(), 'token_revoked', { tokenId: f.seeded.deployments['model-a']!.tokenId, deploymentId: f.seeded.deployments['model-a']!.id });
  asTerminator.publish('tokios.quota.delta', '{"from":"x","d":[]}');
  await until(() => termErrors.length >= 2, 5_000, 'the server to refuse the terminator\'s publishes');
  t.same(termErrors, [{ operation: 'publish', subject: 'tokios.ctl.token_revoked', queue: undefined }, { operation: 'publish', subject: 'tokios.quota.delta', queue: undefined }]);
  asIngress.publish('tokios.in.ing_other.req_1', 'forged answer frame');
  asIngress.publish('tokios.in.ing_other.hb.trm_other', 'forged pair heartbeat');
  asIngress.publish('tokios.presence.terminator', '{}');
  await until(() => ingressErrors.length >= 3, 5_000, 'the server to refuse the ingress\'s publishes');
  t.same(ingressErrors.map((e) => e.subject), ['tokios.in.ing_other.req_1', 'tokios.in.ing_other.hb.trm_other', 'tokios.presence.terminator']);

  t.match(await refusedSubscription(asIngress, 'tokios.req.>'), /Permissions Violation for Subscription to "tokios\.req\.>"/, 'the ingress cannot read requests');
  t.match(await refusedSubscription(asTerminator, 'tokios.req.*'), /Permissions Violation for Subscription to "tokios\.req\.\*"/, 'a terminator cannot read every request outside the queue group');
  t.match(await refusedSubscription(asTerminator, 'tokios.req.*', 'other-group'), /Permissions Violation/, 'nor in another queue group');
  t.match(await refusedSubscription(asTerminator, 'tokios.req.*.*'), /Permissions Violation/, 'nor every connector\'s requests outside the queue group');
  t.match(await refusedSubscription(asIngress, 'tokios.req.*.*'), /Permissions Violation/, 'the ingress cannot read a connector\'s requests');
  t.match(await refusedSubscription(asTerminator, '_INBOX.control.>'), /Permissions Violation/, 'nor read the control service\'s replies');
  t.match(await refusedSubscription(asControl, 'tokios.in.*.>'), /Permissions Violation/, 'the control service cannot read completions');
  t.match(await refusedSubscription(asControl, 'tokios.quota.delta'), /Permissions Violation/);
  await stillServing('refused publishes and subscriptions');

  await t.test('a service whose credentials NATS refuses stops with a clear message instead of retrying forever', async (t) => {
    const stray = spawnCli('ingress', ['ingress'], { ...f.env({ NATS_NKEY_SEED: new TextDecoder().decode(createUser().getSeed()) }), TOKIOS_INGRESS_PORT: '0' });
    const { code } = (await within(stray.exited, 60_000, 'the ingress to give up')).value;
    t.equal(code, 2);
    t.match(stray.output, /NATS at nats:\/\/127\.0\.0\.1:\d+ refused this service's credentials \(nkey \(NATS_NKEY_SEED\)\): AUTHORIZATION_VIOLATION/);
    t.notMatch(stray.output, /SU[A-Z2-7]{50}/, 'the seed is not printed');
  });
});
