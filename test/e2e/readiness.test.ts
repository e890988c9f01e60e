// Issue 9 item 2: /readyz is readiness (NATS, and for control the store; 503 while draining, before the listener
// closes) and /healthz stays liveness. With NATS killed every tier turns unready and the ingress answers
// fabric_unavailable once the outage outlasts the Ack timeout (calls are held that long, across a reconnect);
// with NATS back every tier is ready again by itself.
import t from 'tap';
import { NatsServer, SERVICE_START_MS, TestFabric, boundPort, quickScript, slowScript, spawnCli, until } from '../support/index.js';

interface Ready {
  status: number;
  body: { ready: boolean; draining: boolean; checks: Record<string, string> };
}

async function readyz(base: string): Promise<Ready> {
  const r = await fetch(`${base}/readyz`);
  return { status: r.status, body: (await r.json()) as Ready['body'] };
}

const healthz = async (base: string): Promise<number> => (await fetch(`${base}/healthz`)).status;

t.test('readiness of ingress, terminator and control follows NATS; liveness does not', async (t) => {
  const f = await TestFabric.start(t);
  // Port 0: the process picks a free one and logs it (a port picked here first could be taken before it binds).
  const control = spawnCli('control', ['control'], f.env({ TOKIOS_ADMIN_TOKEN: 'admin-token-for-readiness-0123', TOKIOS_CONTROL_HOST: '127.0.0.1', TOKIOS_CONTROL_PORT: '0' }));
  f.procs.push(control);
  const controlPort = await boundPort(control);
  const [ingress, term, up] = await Promise.all([f.ingress(), f.terminator(), f.upstream(), control.waitFor(/control listening/, SERVICE_START_MS)]);
  await f.connector('model-a', up, term.url);
  const tiers = { ingress: ingress.url, terminator: `http://127.0.0.1:${term.port}`, control: `http://127.0.0.1:${controlPort}` };

  t.same((await readyz(tiers.ingress)).body, { ready: true, draining: false, checks: { nats_ingress: 'ok' } }, 'ingress ready');
  t.same((await readyz(tiers.terminator)).body, { ready: true, draining: false, checks: { nats_terminator: 'ok' } }, 'terminator ready');
  t.same((await readyz(tiers.control)).body, { ready: true, draining: false, checks: { store: 'ok', nats_control: 'ok' } }, 'control ready: store and NATS');

  await (f.nats as NatsServer).kill('SIGKILL');
  for (const [name, base] of Object.entries(tiers)) {
    await until(async () => (await readyz(base)).status === 503, 15_000, `${name} /readyz to turn 503`);
    const r = await readyz(base);
    t.equal(r.body.checks[`nats_${name}`], 'down', `${name}: 503 naming NATS as down`);
    t.equal(await healthz(base), 200, `${name}: /healthz stays 200 (alive)`);
  }
  t.equal((await readyz(tiers.control)).body.checks.store, 'ok', 'control: the store is still up');

  const sentAt = Date.now();
  const res = await fetch(`${ingress.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${f.seeded.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] }),
  });
  const body = (await res.json()) as { error: { code: string } };
  t.equal(res.status, 503);
  // no_tunnel would mean it waited for an Ack that cannot come; fabric_unavailable says NATS is away.
  t.equal(body.error.code, 'fabric_unavailable', `fabric_unavailable after holding the call (${Date.now() - sentAt} ms)`);
  t.equal(res.headers.get('retry-after'), '1', 'with retry-after');

  await (f.nats as NatsServer).restart();
  for (const [name, base] of Object.entries(tiers)) {
    await until(async () => (await readyz(base)).status === 200, 20_000, `${name} /readyz to turn 200 again`);
  }
  t.pass('every tier is ready again after NATS came back');
  up.script = () => quickScript('back');
  await until(
    () => f.client(ingress).chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] }).then((r) => r.choices[0]?.message.content === 'back', () => false),
    10_000,
    'a request to succeed again',
  );
  t.pass('requests are served again');
});

t.test('SIGTERM: the ingress says draining on /readyz while its listener still serves', async (t) => {
  const f = await TestFabric.start(t);
  // A long readiness delay, so the draining window is wide enough to look at under any load.
  const [ingress, term, up] = await Promise.all([f.ingress({ TOKIOS_SHUTDOWN_DELAY_MS: '60000' }), f.terminator(), f.upstream()]);
  await f.connector('model-a', up, term.url);
  const client = f.client(ingress);
  up.script = () => slowScript(20, 50);
  const reached = up.next('request');
  const stream = await client.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'long' }] });
  await reached;
  ingress.proc.signal('SIGTERM');
  await until(async () => (await readyz(ingress.url)).status === 503, 15_000, '/readyz to say 503');
  t.same((await readyz(ingress.url)).body, { ready: false, draining: true, checks: { nats_ingress: 'ok' } }, 'draining, every check still ok');
  t.equal(await healthz(ingress.url), 200, '/healthz stays 200 while draining');
  up.script = () => quickScript('still served');
  const during = await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] });
  t.equal(during.choices[0]?.message.content, 'still served', 'the listener still serves while readiness fails');
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  t.equal(text, slowScript(20, 50).chunks.join(''), 'the stream in flight completed');
  t.ok(ingress.proc.running, 'still running inside the readiness delay');
});
