/**
 * docker-compose.yml started as local processes (Docker cannot run here): its commands, environments, healthchecks
 * and ports, on loopback, with only the images replaced — the tokios image by this checkout, nats by nats-server,
 * nginx by Debian's nginx. MongoDB cannot be installed here: its services are left out and the store env file the
 * init writes is replaced by the embedded store (the only substitution besides images). Then a connector tunnels in
 * through the TLS front and the topology serves API requests (OpenAI SDK, raw streams read by the k6 scripts'
 * helpers) and the dashboard.
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import OpenAI from 'openai';
import { connect as natsConnect } from 'nats';
import { Agent, fetch as undiciFetch, type RequestInit as UndiciInit } from 'undici';
import {
  LocalCompose,
  OpenAIUpstream,
  ROOT,
  connectorTerminators,
  findExecutable,
  metric,
  scrape,
  startConnectorProc,
  terminatorHealth,
  until,
  type Proc,
} from '../support/index.js';

// A dozen processes started on a shared 2-core machine, several loading the CLI (~3-10 s each under load).
t.setTimeout(600_000);

interface StreamWatch {
  onEvent(name: string | undefined, data: string, now: number): void;
  readonly ok: boolean;
  readonly ttftMs: number | undefined;
}
interface K6Helpers {
  parseSse(text: string): { name: string | undefined; data: string }[];
  StreamWatch: new (protocol: string, startedAt: number) => StreamWatch;
}

const TIERS = ['ingress-1', 'ingress-2', 'terminator-1', 'terminator-2', 'control'];

if (!findExecutable('nginx', ['/usr/sbin/nginx'])) {
  t.test('docker-compose.yml as processes', { skip: 'nginx is not installed (apt-get install nginx; .ci/run installs it)' }, () => undefined);
} else {
  t.test('docker-compose.yml as processes: NATS cluster, 2 ingress, 2 terminators, control, TLS front', async (t) => {
    const lc = await LocalCompose.prepare({ TOKIOS_PUBLIC_HOST: 'localhost' });
    let connector: Proc | undefined;
    let upstream: OpenAIUpstream | undefined;
    t.teardown(async () => {
      await connector?.kill();
      await upstream?.close();
      await lc.down();
    });
    t.comment(`left out: ${[...lc.skipped].map(([n, why]) => `${n} (${why})`).join(', ')}`);
    t.same([...lc.skipped.keys()].sort(), ['mongo-1', 'mongo-2', 'mongo-3', 'mongo-rs-init'], 'only the MongoDB services have no stand-in');

    const secrets = lc.volume('secrets');
    const init = await lc.run('init');
    t.equal(init.code, 0, 'init completes');
    t.match(init.output, /generated a self-signed certificate/);
    const again = await lc.run('init');
    t.equal(again.code, 0);
    t.notMatch(again.output, /generated/, 'init again keeps every secret');
    // The one substitution besides images: the store. init wrote MONGODB_URL for the replica set; no MongoDB here.
    t.match(readFileSync(join(secrets, 'env/store.env'), 'utf8'), /^MONGODB_URL=mongodb:\/\/tokios:[0-9a-f]{64}@mongo-1:27017,mongo-2:27017,mongo-3:27017\/tokios\?replicaSet=rs0&authSource=admin$/m);
    writeFileSync(join(secrets, 'env/store.env'), `TOKIOS_DATA_DIR=${lc.volume('data')}\n`);

    await Promise.all(['nats-1', 'nats-2', 'nats-3'].map((n) => lc.start(n)));
    const routez = (await (await fetch(`http://127.0.0.1:${lc.net.port('nats-1', 8222)}/routez`)).json()) as { num_routes: number };
    t.equal(routez.num_routes, 2, 'nats-1 is routed to both other nodes (routes authenticated by the generated password)');
    const anonymous = await natsConnect({ servers: `nats://127.0.0.1:${lc.net.port('nats-2', 4222)}`, timeout: 5_000 }).then(
      async (nc) => {
        await nc.close();
        return 'connected';
      },
      (e: { code?: string }) => e.code,
    );
    t.equal(anonymous, 'AUTHORIZATION_VIOLATION', 'the cluster refuses a client without credentials');

    await Promise.all(TIERS.map((n) => lc.start(n)));
    t.pass('every tier passed its healthcheck');
    await lc.start('gateway');
    const front = lc.net.publishedPort(443);
    const base = `https://127.0.0.1:${front}`;
    const cert = join(secrets, 'tls/cert.pem');
    const agent = new Agent({ connect: { ca: readFileSync(cert, 'utf8') } });
    t.teardown(() => agent.close());
    const call = (path: string, init: UndiciInit = {}) => undiciFetch(`${base}${path}`, { ...init, dispatcher: agent });

    // Setup as an operator would: the admin service (`docker compose run --rm admin …`), then the admin API.
    const created = await lc.run('admin', ['tenant', 'create', '--name', 'acme', '--json']);
    t.equal(created.code, 0, 'docker compose run --rm admin tenant create');
    t.match(created.output, /store: SQLite /, 'the admin service opens the same store');
    const tenant = (JSON.parse(created.stdout) as { id: string }).id;
    const adminToken = /^TOKIOS_ADMIN_TOKEN=(\S+)$/m.exec(readFileSync(join(secrets, 'env/control.env'), 'utf8'))?.[1];
    const op = async (method: string, path: string, body?: unknown): Promise<Record<string, any>> => {
      const res = await call(`/admin/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, 'x-tokios-tenant': tenant, ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      t.ok(res.status < 300, `${method} ${path} → ${res.status}`);
      return (await res.json()) as Record<string, any>;
    };
    const apiKey = (await op('POST', '/keys', { name: 'compose' })).secret as string;
    const depId = (await op('POST', '/deployments', { name: 'llama3' })).deployment.id as string;
    const tunnelToken = (await op('POST', `/deployments/${depId}/tokens`)).secret as string;
    t.match(apiKey, /^sk-tokios-/);
    t.match(tunnelToken, /^tt-tokios-/);

    // A connector dials the front; its second tunnel goes to the other terminator's own public URL.
    upstream = await OpenAIUpstream.start('llama3.1:8b');
    connector = await startConnectorProc(
      { tunnel_token: tunnelToken, upstream: upstream.url, gateway: `wss://127.0.0.1:${front}/v1/tunnel`, model: 'llama3.1:8b', tunnels: 2 },
      { NODE_EXTRA_CA_CERTS: cert },
    );
    await until(() => connectorTerminators(connector!).size === 2, 60_000, 'tunnels on both terminators');
    const health = await Promise.all(['terminator-1', 'terminator-2'].map((n) => terminatorHealth({ port: lc.net.port(n, 8081) })));
    t.same(health.map((h) => h.tunnels), [1, 1], 'one tunnel on each terminator, through the TLS front');

    const openai = new OpenAI({
      apiKey,
      baseURL: `${base}/v1`,
      maxRetries: 0,
      // The SDK's fetch, through an agent that trusts the certificate init generated.
      fetch: ((url: string, init: UndiciInit) => undiciFetch(url, { ...init, dispatcher: agent })) as unknown as typeof fetch,
    });
    const whole = await openai.chat.completions.create({ model: 'llama3', messages: [{ role: 'user', content: 'Hello!' }] });
    t.equal(whole.choices[0]?.message.content, 'Hello, world!', 'an OpenAI SDK call through the front');

    const k6 = (await import(pathToFileURL(join(ROOT, 'loadtest/lib/tokios.js')).href)) as K6Helpers;
    const stream = async (protocol: string, path: string, headers: Record<string, string>) => {
      const started = Date.now();
      const res = await call(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model: 'llama3', stream: true, max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] }) });
      const watch = new k6.StreamWatch(protocol, started);
      for (const e of k6.parseSse(await res.text())) watch.onEvent(e.name, e.data, Date.now());
      return { status: res.status, watch };
    };
    const chat = await stream('openai', '/v1/chat/completions', { authorization: `Bearer ${apiKey}` });
    t.equal(chat.status, 200);
    t.equal(chat.watch.ok, true, 'an OpenAI stream through the front ends with [DONE] (as the k6 script judges it)');
    const messages = await stream('anthropic', '/messages', { 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' });
    t.equal(messages.status, 200);
    t.equal(messages.watch.ok, true, 'an Anthropic stream (base URL without /v1) ends with message_stop');

    const dashboard = await call('/dashboard');
    t.equal(dashboard.status, 200, 'the dashboard through the front');
    t.match(dashboard.headers.get('content-type'), /text\/html/);
    t.match(await dashboard.text(), /Tokios/);
    t.match((await op('GET', '/tenants')).data, [{ id: tenant, name: 'acme' }], 'the admin API through the front');
    t.equal((await call('/metrics')).status, 404, 'metrics are not public');
    const plain = await undiciFetch(`http://127.0.0.1:${lc.net.port('gateway', 80)}/v1/models`, { redirect: 'manual' });
    t.equal(plain.status, 308, 'plain HTTP is redirected to HTTPS');
    t.match(plain.headers.get('location'), /^https:\/\/127\.0\.0\.1(:\d+)?\/v1\/models$/);

    // Prometheus' view: each tier's /metrics on its own port (inside the compose network; the front refuses it).
    const tier = (name: string, port: number) => scrape(`http://127.0.0.1:${lc.net.port(name, port)}`);
    const ingresses = await Promise.all(['ingress-1', 'ingress-2'].map((n) => tier(n, 8080)));
    const answered = ingresses.map((m) => metric(m.samples, 'tokios_ingress_requests_total', { deployment: depId, status: '200' }));
    t.equal(answered[0]! + answered[1]!, 3, `the ingress replicas counted the 3 API requests (${answered.join(' + ')}) by deployment id and status`);
    const terminators = await Promise.all(['terminator-1', 'terminator-2'].map((n) => tier(n, 8081)));
    t.same(terminators.map((m) => metric(m.samples, 'tokios_terminator_tunnels', { state: 'routable' })), [1, 1], 'each terminator reports its routable tunnel');
    const control = await tier('control', 8082);
    t.ok(metric(control.samples, 'tokios_control_requests_total') > 0, 'control counts its admin API requests');
    for (const [name, m] of [['ingress-1', ingresses[0]!], ['terminator-1', terminators[0]!], ['control', control]] as const) {
      const shown = m.text.split('\n').filter((l) => /^tokios_(ingress_requests_total|ingress_in_flight|terminator_tunnels|terminator_streams_total|control_requests_total|nats_connected)\b/.test(l));
      t.comment(`${name} /metrics:\n${shown.slice(0, 8).join('\n')}`);
    }

    // `docker compose stop`: each service's stop signal, within its stop_grace_period, clean exit.
    await connector.kill('SIGTERM');
    for (const name of ['gateway', ...TIERS]) {
      const r = await lc.stop(name);
      t.ok(r.within && (r.code === 0 || r.signal !== null), `${name} stops within its stop_grace_period (${r.code ?? r.signal})`);
    }
    // NATS would take lame_duck_duration (30 s) on its stop signal; that path is the faults tests' business.
    for (const n of ['nats-1', 'nats-2', 'nats-3']) await lc.stop(n, 'SIGTERM');
  });
}
