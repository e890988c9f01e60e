/**
 * docker-compose.yml, infra/Dockerfile and infra/nginx/tokios.conf checked against each other and against the
 * services' config modules (Docker cannot run here; test/e2e/compose-topology.test.ts runs the same file as local
 * processes).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ROOT,
  connectorDrainMs,
  defaultPort,
  stopMs,
  durationMs,
  isTier,
  knownEnv,
  loadCompose,
  PORT_VAR,
  type ComposeService,
  type Tier,
} from '../support/index.js';

const compose = loadCompose({ TOKIOS_PUBLIC_HOST: 'tokios.example.com' });
const services = [...compose.services.values()];
const nginx = readFileSync(join(ROOT, 'infra/nginx/tokios.conf'), 'utf8');
const dockerfile = readFileSync(join(ROOT, 'infra/Dockerfile'), 'utf8');

/** The tier a service of the tokios image runs (`command: [ingress]`), if any. */
const tierOf = (s: ComposeService): Tier | undefined => (s.build !== undefined && isTier(s.command?.[0]) ? s.command[0] : undefined);
const tiers = services.flatMap((s) => {
  const tier = tierOf(s);
  return tier ? [{ s, tier }] : [];
});
const named = (prefix: string) => services.filter((s) => new RegExp(`^${prefix}-\\d+$`).test(s.name));
const oneShot = (s: ComposeService) => s.restart === 'no';

t.test('the topology: 3 NATS nodes, 3 MongoDB members, 2 ingress, 2 terminators, control, a TLS front, init', async (t) => {
  t.same(tiers.map(({ s, tier }) => `${s.name}=${tier}`).sort(), ['control=control', 'ingress-1=ingress', 'ingress-2=ingress', 'terminator-1=terminator', 'terminator-2=terminator']);
  t.equal(named('nats').length, 3);
  t.equal(named('mongo').length, 3);
  t.ok(compose.services.get('init'), 'a one-shot init service');
  t.same(compose.services.get('gateway')?.ports.map((p) => p.container).sort(), [443, 80].sort(), 'the front publishes 443 (and 80 for the redirect)');
});

t.test('every long-running service has a healthcheck; the tiers probe /readyz on their own port', async (t) => {
  for (const s of services.filter((x) => !oneShot(x))) t.ok(s.healthcheck, `${s.name} has a healthcheck`);
  for (const { s, tier } of tiers) {
    const port = Number(s.environment[PORT_VAR[tier]] ?? defaultPort(tier));
    t.equal(port, defaultPort(tier), `${s.name} listens on the ${tier} default port (fixed ports)`);
    t.same(s.expose, [port], `${s.name} exposes ${port}`);
    t.equal(s.healthcheck?.test.at(-1), `http://127.0.0.1:${port}/readyz`, `${s.name} probes its readiness on its own port`);
    t.equal(s.environment[PORT_VAR[tier].replace('_PORT', '_HOST')], '0.0.0.0', `${s.name} listens on the container network`);
  }
  for (const s of services.filter((x) => x.depends_on.init !== undefined)) {
    t.equal(s.depends_on.init?.condition, 'service_completed_successfully', `${s.name} starts after init completed`);
  }
});

t.test('stop_grace_period is longer than every drain', async (t) => {
  for (const { s, tier } of tiers) {
    const grace = durationMs(s.stop_grace_period ?? '10s');
    const stop = stopMs(tier, s.environment);
    t.ok(grace > stop.ms, `${s.name}: stop_grace_period ${grace} ms > ${stop.what} ms`);
    t.ok(grace > connectorDrainMs(), `${s.name}: stop_grace_period ${grace} ms > a connector's drain ${connectorDrainMs()} ms`);
  }
  const initScript = readFileSync(join(ROOT, 'infra/compose/init.sh'), 'utf8');
  const lameDuck = durationMs(/lame_duck_duration: "(\w+)"/.exec(initScript)?.[1] ?? 'missing');
  for (const s of named('nats')) {
    t.equal(s.stop_signal, 'SIGUSR2', `${s.name} stops in lame duck mode`);
    t.ok(durationMs(s.stop_grace_period ?? '10s') > lameDuck, `${s.name}: stop_grace_period > lame_duck_duration`);
  }
});

t.test('environments hold only variables the services read', async (t) => {
  for (const { s, tier } of tiers) {
    const known = knownEnv(tier);
    for (const k of Object.keys(s.environment)) t.ok(known.has(k), `${s.name}: ${k} is read by the ${tier} config`);
    const urls = (s.environment.NATS_URL ?? '').split(',');
    t.same(urls.sort(), named('nats').map((n) => `nats://${n.name}:4222`).sort(), `${s.name} knows every NATS node`);
    // Credentials and the store come from init's files, never from compose itself.
    t.match(s.entrypoint?.join(' '), new RegExp(`--env-file=/secrets/nats/${tier}\\.env --env-file=/secrets/env/store\\.env`), `${s.name} runs with its role's credentials and the store`);
  }
});

t.test('NATS: a cluster of three with authenticated routes and the generated per-role users', async (t) => {
  const routes = named('nats').map((n) => `nats://${n.name}:6222`).sort();
  for (const s of named('nats')) {
    const cmd = s.command ?? [];
    const arg = (flag: string) => cmd[cmd.indexOf(flag) + 1];
    t.equal(arg('-c'), '/secrets/nats/cluster.conf', `${s.name} runs the generated cluster config`);
    t.equal(arg('--name'), s.name);
    t.same(arg('--routes')?.split(',').sort(), routes, `${s.name} routes to every node`);
    t.same(s.expose, [4222, 6222, 8222]);
  }
  const init = readFileSync(join(ROOT, 'infra/compose/init.sh'), 'utf8');
  t.match(init, /\$CLI nats-config --dir "\$S\/nats"/, 'users and permissions from tokios nats-config');
  t.match(init, /authorization \{ user: tokios-route, password:/, 'routes need a password');
  t.match(init, /include nats-auth\.conf/);
});

t.test('the TLS front routes the API, dashboard, admin API and tunnels to the right services and ports', async (t) => {
  t.match(nginx, /listen 443 ssl;/);
  t.match(nginx, /ssl_certificate \/secrets\/tls\/cert\.pem;/);
  const upstream = (name: string) => [...(new RegExp(`upstream ${name} \\{([^}]*)\\}`).exec(nginx)?.[1] ?? '').matchAll(/server ([\w-]+):(\d+)/g)].map((m) => `${m[1]}:${m[2]}`);
  const at = (prefix: string, tier: Tier) => named(prefix).map((s) => `${s.name}:${defaultPort(tier)}`);
  t.same(upstream('tokios_ingress'), at('ingress', 'ingress'));
  t.same(upstream('tokios_terminators'), at('terminator', 'terminator'));
  t.same(upstream('tokios_control'), [`control:${defaultPort('control')}`], 'admin traffic goes to the port control listens on');
  t.match(nginx, /location \/admin\/ \{\s*proxy_pass http:\/\/tokios_control;/);
  t.match(nginx, /location \/dashboard \{\s*proxy_pass http:\/\/tokios_control;/);
  t.match(nginx, /location = \/v1\/tunnel \{\s*proxy_pass http:\/\/tokios_terminators;/);
  t.match(nginx, /location = \/metrics \{\s*return 404;/, 'metrics are not public');
  const body = /client_max_body_size (\d+)m;/.exec(nginx);
  t.ok(Number(body?.[1]) * 1024 * 1024 > 10 * 1024 * 1024, 'bodies up to the ingress limit reach the ingress');

  const publicUrls = named('terminator').map((s) => s.environment.TOKIOS_PUBLIC_TUNNEL_URL ?? '');
  t.equal(new Set(publicUrls).size, publicUrls.length, 'each terminator advertises its own tunnel URL');
  for (const s of named('terminator')) {
    const url = new URL(s.environment.TOKIOS_PUBLIC_TUNNEL_URL ?? 'ws://missing');
    t.equal(url.protocol, 'wss:');
    t.equal(url.hostname, 'tokios.example.com', 'the public host from TOKIOS_PUBLIC_HOST');
    const route = new RegExp(`location = ${url.pathname.replace(/\//g, '\\/')} \\{\\s*proxy_pass http://${s.name}:${defaultPort('terminator')}/v1/tunnel;`);
    t.match(nginx, route, `${url.pathname} reaches ${s.name} alone`);
  }
});

t.test('the image: /data owned by the service user, openssl for init, the CLI as entrypoint', async (t) => {
  t.match(dockerfile, /mkdir -p \/data[\s\\&]*chown node:node \/data/);
  t.match(dockerfile, /^USER node$/m);
  t.match(dockerfile, /install -y --no-install-recommends openssl/);
  t.match(dockerfile, /^ENTRYPOINT \["node", "\/app\/services\/cli\/bin\/tokios\.js"\]$/m);
  const init = compose.services.get('init');
  t.equal(init?.user, '0:0', 'init runs as root to give each secret file its reader');
});

t.test('README explains the scaled topology', async (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  t.match(readme, /^## Run the scaled topology$/m);
  for (const s of ['docker compose up', 'docker compose run --rm admin', 'NODE_EXTRA_CA_CERTS', 'TOKIOS_PUBLIC_HOST']) t.match(readme, s);
});
