// Issue 9 item 8: every service binds its HTTP port before it opens the store or joins NATS. A port in use is the
// one-line message and exit 2 with no NATS connection ever made; while a service waits for NATS its port answers
// /healthz 200, /readyz 503 "starting", the API fabric_unavailable in its own shape and tunnel upgrades 503; once NATS
// appears every tier turns ready by itself.
import { rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import t from 'tap';
import { WebSocket } from 'ws';
import { NatsServer, SERVICE_START_MS, TEST_FABRIC_SECRET, boundPort, seed, spawnCli, until } from '../support/index.js';

const ADMIN_TOKEN = 'admin-token-for-startup-order-01';

/** A TCP listener on a port of its own that counts the connections made to it (a NATS URL nothing should dial). */
async function connectionCounter(): Promise<{ server: Server; port: number; count: () => number }> {
  let n = 0;
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    n++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = server.close.bind(server);
  server.close = (cb) => {
    for (const s of sockets) s.destroy();
    return close(cb);
  };
  return { server, port: (server.address() as { port: number }).port, count: () => n };
}

t.test('a port in use: one line, exit 2, and no connection to NATS was ever made', async (t) => {
  const nats = await connectionCounter();
  t.teardown(() => nats.server.close());
  const busy = await connectionCounter();
  t.teardown(() => busy.server.close());
  const seeded = await seed();
  t.teardown(() => rm(seeded.dataDir, { recursive: true, force: true }));
  const env = { NATS_URL: `nats://127.0.0.1:${nats.port}`, TOKIOS_FABRIC_SECRET: TEST_FABRIC_SECRET, TOKIOS_DATA_DIR: seeded.dataDir };
  for (const [cmd, vars] of [
    ['ingress', { TOKIOS_INGRESS_HOST: '127.0.0.1', TOKIOS_INGRESS_PORT: String(busy.port) }],
    ['terminator', { TOKIOS_TERMINATOR_HOST: '127.0.0.1', TOKIOS_TERMINATOR_PORT: String(busy.port) }],
    ['control', { TOKIOS_CONTROL_HOST: '127.0.0.1', TOKIOS_CONTROL_PORT: String(busy.port), TOKIOS_ADMIN_TOKEN: ADMIN_TOKEN }],
    ['dev', { TOKIOS_INGRESS_HOST: '127.0.0.1', TOKIOS_PORT: String(busy.port) }],
  ] as const) {
    const p = spawnCli(cmd, [cmd], { ...env, ...vars });
    const exit = await p.exited;
    const name = cmd === 'dev' ? 'TOKIOS_PORT' : Object.keys(vars).find((k) => k.endsWith('_PORT'))!;
    t.equal(exit.code, 2, `${cmd}: exit 2`);
    t.match(p.output, new RegExp(`^port ${busy.port} in use; set ${name}$`, 'm'), `${cmd}: "port ${busy.port} in use; set ${name}"`);
    t.notMatch(p.output, /store opened|nats/i, `${cmd}: neither the store nor NATS was touched`);
  }
  t.equal(nats.count(), 0, 'not one connection reached the NATS URL');
});

interface Starting {
  status: number;
  body: { status?: string; ready?: boolean };
}

async function readyz(base: string): Promise<Starting> {
  const r = await fetch(`${base}/readyz`);
  return { status: r.status, body: (await r.json()) as Starting['body'] };
}

/** The status a WebSocket upgrade on `url` gets (a refusal's HTTP status), or 101 when it opens. */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: 'Bearer tt-tokios-not-checked-while-starting' } });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

t.test('while NATS is away the port answers "starting"; once NATS appears every tier is ready', async (t) => {
  // A port that accepts nothing yet: a nats-server started, then stopped (it is started again on the same port below).
  const nats = await NatsServer.start();
  t.teardown(() => nats.stop());
  await nats.stop();
  const seeded = await seed();
  t.teardown(() => rm(seeded.dataDir, { recursive: true, force: true }));
  const env = { NATS_URL: nats.url, TOKIOS_FABRIC_SECRET: TEST_FABRIC_SECRET, TOKIOS_DATA_DIR: seeded.dataDir };
  const procs = {
    ingress: spawnCli('ingress', ['ingress'], { ...env, TOKIOS_INGRESS_HOST: '127.0.0.1', TOKIOS_INGRESS_PORT: '0' }),
    terminator: spawnCli('terminator', ['terminator'], { ...env, TOKIOS_TERMINATOR_HOST: '127.0.0.1', TOKIOS_TERMINATOR_PORT: '0' }),
    control: spawnCli('control', ['control'], { ...env, TOKIOS_CONTROL_HOST: '127.0.0.1', TOKIOS_CONTROL_PORT: '0', TOKIOS_ADMIN_TOKEN: ADMIN_TOKEN }),
    dev: spawnCli('dev', ['dev'], { ...env, TOKIOS_INGRESS_HOST: '127.0.0.1', TOKIOS_PORT: '0' }),
  };
  t.teardown(() => Promise.all(Object.values(procs).map((p) => p.kill())));
  const ports = Object.fromEntries(await Promise.all(Object.entries(procs).map(async ([name, p]) => [name, await boundPort(p)] as const)));
  const base = (name: string): string => `http://127.0.0.1:${ports[name]}`;

  for (const name of Object.keys(procs)) {
    t.equal((await fetch(`${base(name)}/healthz`)).status, 200, `${name}: /healthz 200 while joining NATS`);
    const r = await readyz(base(name));
    t.equal(r.status, 503, `${name}: /readyz 503`);
    t.equal(r.body.status, 'starting', `${name}: /readyz says starting`);
    t.equal(r.body.ready, false, `${name}: not ready`);
  }

  for (const name of ['ingress', 'dev']) {
    const chat = await fetch(`${base(name)}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${seeded.apiKey}`, 'content-type': 'application/json', 'x-request-id': 'starting-1' },
      body: JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] }),
    });
    t.equal(chat.status, 503, `${name}: an OpenAI call gets 503`);
    t.equal(chat.headers.get('retry-after'), '1', `${name}: with retry-after`);
    t.equal(chat.headers.get('x-request-id'), 'starting-1', `${name}: and the caller's request id`);
    t.match(await chat.json(), { error: { code: 'fabric_unavailable', type: 'server_error' } }, `${name}: fabric_unavailable in OpenAI's shape`);
    const messages = await fetch(`${base(name)}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': seeded.apiKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'model-a', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }),
    });
    t.equal(messages.status, 503, `${name}: an Anthropic call gets 503`);
    t.match(await messages.json(), { type: 'error', error: { type: 'overloaded_error' } }, `${name}: in Anthropic's shape`);
  }
  for (const name of ['control', 'dev']) {
    const admin = await fetch(`${base(name)}/admin/v1/tenants`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    t.equal(admin.status, 503, `${name}: the admin API answers 503`);
    t.match(await admin.json(), { error: { code: 'fabric_unavailable' } }, `${name}: fabric_unavailable in the admin API's shape`);
  }
  for (const name of ['terminator', 'dev']) {
    t.equal(await upgradeStatus(`ws://127.0.0.1:${ports[name]}/v1/tunnel`), 503, `${name}: a tunnel upgrade is refused with 503 (the connector retries)`);
  }
  for (const [name, p] of Object.entries(procs)) t.ok(p.running, `${name} is still running, waiting for NATS`);

  await nats.restart();
  for (const name of Object.keys(procs)) {
    await until(async () => (await readyz(base(name))).status === 200, SERVICE_START_MS, `${name} /readyz to turn 200`);
  }
  t.pass('every tier is ready on the port it bound first');
  await procs.ingress.waitFor(/ingress listening/);
  const models = await fetch(`${base('ingress')}/v1/models`, { headers: { authorization: `Bearer ${seeded.apiKey}` } });
  t.equal(models.status, 200, 'the ingress serves its API on that port');
  const tenants = await fetch(`${base('control')}/admin/v1/tenants`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  t.equal(tenants.status, 200, 'control serves the admin API on that port');
});
