import t from 'tap';
import OpenAI from 'openai';
import {
  AdminClient, OpenAIUpstream, startConnectorProc, startDevStack, eventually, type DevStack, type Proc,
} from '../support/index.js';

const ADMIN = 'ta-test-operator-token-live-0123456789';

let stack: DevStack;
let A: AdminClient;
let depA: string;
const procs: Proc[] = [];
const upstreams: OpenAIUpstream[] = [];

t.before(async () => {
  stack = await startDevStack(['live-a', 'rereg'], { TOKIOS_ADMIN_TOKEN: ADMIN });
  const base = `http://127.0.0.1:${stack.dev.port}`;
  A = new AdminClient(base, { bearer: ADMIN, headers: { 'x-tokios-tenant': stack.seeded.tenantId } });
  depA = stack.seeded.deployments['live-a']!.id;
});

t.teardown(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  for (const u of upstreams) await u.close();
  await stack.close();
});

async function upstream(model: string): Promise<OpenAIUpstream> {
  const u = await OpenAIUpstream.start(model);
  upstreams.push(u);
  return u;
}

async function connector(token: string, up: OpenAIUpstream, wait = true, extra: Record<string, unknown> = {}): Promise<Proc> {
  const p = await startConnectorProc({ tunnel_token: token, upstream: up.url, gateway: stack.gateway, model: up.model, ...extra }, {}, wait);
  procs.push(p);
  return p;
}

type Status = { known: boolean; online: boolean; connectors: { connectorId: string; version: string; upstreamKind: string; models: string[]; tunnels: number; draining: boolean; inFlight: number; connectedSince: string }[] };
const status = async (depId: string, as = A): Promise<Status> => (await as.get(`/deployments/${depId}`)).body.deployment.status;
const client = (apiKey = stack.seeded.apiKey) => new OpenAI({ apiKey, baseURL: stack.baseURL, maxRetries: 0 });

t.test('live status follows connectors coming and going', async (t) => {
  t.same(await status(depA), { known: true, online: false, connectors: [] });
  const up1 = await upstream('model-one');
  const c1 = await connector(stack.seeded.deployments['live-a']!.token, up1);
  let s = await eventually('first connector online', async () => {
    const x = await status(depA);
    return x.online && x.connectors.length === 1 && x.connectors[0]!.tunnels === 2 ? x : undefined;
  });
  t.match(s.connectors[0], { connectorId: /^con_/, version: /^\d+\.\d+\.\d+/, upstreamKind: 'openai', models: ['model-one'], inFlight: 0, draining: false });
  t.ok(Date.parse(s.connectors[0]!.connectedSince) <= Date.now());

  const up2 = await upstream('model-two');
  const c2 = await connector(stack.seeded.deployments['live-a']!.token, up2);
  s = await eventually('two connectors', async () => ((await status(depA)).connectors.length === 2 ? status(depA) : undefined));
  t.same(s.connectors.map((c) => c.models[0]).sort(), ['model-one', 'model-two']);

  const list = (await A.get('/deployments')).body.data as { id: string; status: Status }[];
  t.equal(list.find((d) => d.id === depA)?.status.connectors.length, 2, 'the list carries live status too');

  await c1.kill();
  await eventually('one connector after a kill', async () => (await status(depA)).connectors.length === 1);
  await c2.kill();
  s = await eventually('offline', async () => {
    const x = await status(depA);
    return !x.online && x.connectors.length === 0 ? x : undefined;
  });
  t.equal(s.online, false);
});

t.test('revoking a tunnel token closes its live tunnels and the connector gives up', async (t) => {
  const created = await A.post(`/deployments/${depA}/tokens`);
  t.equal(created.status, 201);
  const up = await upstream('model-revoke');
  const other = await connector(stack.seeded.deployments['live-a']!.token, await upstream('model-stays'));
  const c = await connector(created.body.secret, up);
  await eventually('both online', async () => (await status(depA)).connectors.length === 2);
  const ok = await client().chat.completions.create({ model: 'live-a', messages: [{ role: 'user', content: 'hi' }] });
  t.ok(ok.id);

  const revoked = await A.post(`/tokens/${created.body.token.id}/revoke`);
  t.equal(revoked.status, 200);
  const exit = await Promise.race([c.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5_000))]);
  t.not(exit, 'timeout', 'the connector exits instead of reconnecting forever');
  t.match(exit, { code: 1 });
  t.match(c.output, /tunnel token was revoked/, 'with a clear message');
  const s = await eventually('only the other connector left', async () => {
    const x = await status(depA);
    return x.connectors.length === 1 ? x : undefined;
  });
  t.same(s.connectors[0]!.models, ['model-stays'], 'the connector with another token stays');
  const before = up.requests.length;
  for (let i = 0; i < 3; i++) await client().chat.completions.create({ model: 'live-a', messages: [{ role: 'user', content: 'x' }] });
  t.equal(up.requests.length, before, 'no request reaches the revoked connector');

  const again = await connector(created.body.secret, up, false);
  const { code } = await again.exited;
  t.equal(code, 1);
  t.match(again.output, /rejected the tunnel token \(HTTP 401\)/, 'a restart with the revoked token is refused at once');
  await other.kill();
});

t.test("one tenant's tunnel token never attaches a connector to another tenant's deployment", async (t) => {
  const op = A.as({ bearer: ADMIN });
  const tenantB = (await op.post('/tenants', { name: 'other' })).body.tenant.id as string;
  const B = A.as({ bearer: ADMIN, headers: { 'x-tokios-tenant': tenantB } });
  const depB = (await B.post('/deployments', { name: 'live-a' })).body.deployment.id as string;
  const keyB = (await B.post('/keys', { name: 'b' })).body.secret as string;
  t.equal((await B.post(`/deployments/${depA}/tokens`)).status, 404, "B cannot mint a token for A's deployment");

  const c = await connector(stack.seeded.deployments['live-a']!.token, await upstream('model-of-a'));
  await eventually("A's deployment online", async () => (await status(depA)).online);
  t.same(await status(depB, B), { known: true, online: false, connectors: [] }, "B's same-named deployment stays offline");
  const r = await client(keyB).chat.completions.create({ model: 'live-a', messages: [{ role: 'user', content: 'x' }] }).then(
    () => 200,
    (e: { status?: number }) => e.status,
  );
  t.equal(r, 503, "B's calls do not reach A's connector");
  await c.kill();
});

t.test('re-register a deployment on a new upstream: the old connector drains, clients see no change', async (t) => {
  const dep = stack.seeded.deployments.rereg!;
  const oldUp = await upstream('old-model');
  const newUp = await upstream('new-model');
  oldUp.script = () => ({ chunks: Array.from({ length: 15 }, (_, i) => `o${i} `), delayMs: 80, firstDelayMs: 0, finishReason: 'stop', usage: { prompt_tokens: 1, completion_tokens: 15 } });
  newUp.script = () => ({ chunks: ['from new'], delayMs: 0, firstDelayMs: 0, finishReason: 'stop', usage: { prompt_tokens: 1, completion_tokens: 2 } });
  const oldConn = await connector(dep.token, oldUp);
  await eventually('old online', async () => (await status(dep.id)).online);

  // a long stream on the old connector
  const stream = await client().chat.completions.create({ model: 'rereg', stream: true, messages: [{ role: 'user', content: 'long' }] });
  const it = stream[Symbol.asyncIterator]();
  let text = '';
  while (!text) {
    const n = await it.next();
    if (n.done) break;
    text += n.value.choices[0]?.delta.content ?? '';
  }
  t.ok(text.startsWith('o0'), 'the stream has started on the old connector');

  // a second connector with a new token for the same deployment, on another upstream
  const token = await A.post(`/deployments/${dep.id}/tokens`);
  const newConn = await connector(token.body.secret, newUp);
  await eventually('two connectors', async () => (await status(dep.id)).connectors.length === 2);

  oldConn.signal('SIGTERM');
  await eventually('old connector draining or gone', async () => {
    const s = await status(dep.id);
    return s.connectors.every((c) => c.models[0] === 'new-model' || c.draining);
  });
  for (let i = 0; i < 4; i++) {
    const r = await client().chat.completions.create({ model: 'rereg', messages: [{ role: 'user', content: 'x' }] });
    t.equal(r.choices[0]?.message.content, 'from new', `call ${i} served by the new upstream, same model name, same key`);
  }

  for (;;) {
    const n = await it.next();
    if (n.done) break;
    text += n.value.choices[0]?.delta.content ?? '';
  }
  t.equal(text, Array.from({ length: 15 }, (_, i) => `o${i} `).join(''), 'the in-flight stream finished whole on the old connector');
  const { code } = await oldConn.exited;
  t.equal(code, 0, 'the old connector exits cleanly after draining');
  const s = await eventually('only the new connector', async () => {
    const x = await status(dep.id);
    return x.connectors.length === 1 ? x : undefined;
  });
  t.same(s.connectors[0]!.models, ['new-model']);
  t.equal(s.online, true);
  await newConn.kill();
});
