import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { connect as natsConnect } from 'nats';
import { freePort } from '../support/ports.js';
import { CLI, OpenAIUpstream, SERVICE_START_MS, spawnCli, startConnectorProc, type Proc } from '../support/index.js';

const run = promisify(execFile);
// A dozen CLI processes one after the other; each takes ~10 s to load on the shared 2-core machine under load.
t.setTimeout(480_000);

/** The README's walk-through, through the real `tokios` command. */
t.test('tokios dev + tokios admin + tokios connector, as in the README', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'tokios-walk-'));
  const port = await freePort();
  const deadNats = `nats://127.0.0.1:${await freePort()}`;
  const env = { PATH: process.env.PATH, TOKIOS_DATA_DIR: dataDir, NATS_URL: deadNats, LOG_LEVEL: 'info' };
  const admin = async (...args: string[]) => JSON.parse((await run(process.execPath, [CLI, 'admin', ...args, '--json'], { env })).stdout) as Record<string, string>;

  const tenant = await admin('tenant', 'create', '--name', 'acme');
  const key = await admin('key', 'create', '--tenant', tenant.id!);
  const dep = await admin('deployment', 'create', '--tenant', tenant.id!, '--name', 'llama3');
  const token = await admin('token', 'create', '--deployment', dep.id!);
  t.match(key.secret, /^sk-tokios-[A-Za-z0-9]{40}$/);
  t.match(token.secret, /^tt-tokios-[A-Za-z0-9]{40}$/);

  const dup = await run(process.execPath, [CLI, 'admin', 'deployment', 'create', '--tenant', tenant.id!, '--name', 'llama3'], { env }).then(
    () => undefined,
    (e: { code: number; stderr: string }) => e,
  );
  t.equal(dup?.code, 1, 'duplicate deployment name is refused');
  t.match(dup?.stderr, /already exists/);

  // Without NATS_URL, as in the README: the dev stack runs its own nats-server with per-role users.
  const { NATS_URL: _dead, ...devEnv } = env;
  const dev: Proc = spawnCli('dev', ['dev'], { ...devEnv, TOKIOS_PORT: String(port), TOKIOS_INGRESS_HOST: '127.0.0.1' });
  const upstream = await OpenAIUpstream.start('llama3.1:8b');
  let connector: Proc | undefined;
  t.teardown(async () => {
    await connector?.kill();
    await dev.kill();
    await upstream.close();
  });
  await dev.waitFor(/Tokios dev stack on http:\/\/127\.0\.0\.1:\d+/, SERVICE_START_MS);
  t.match(dev.output, /own nats-server; per-role users and credentials in /, 'started its own nats-server with per-role users');
  const natsUrl = /NATS:\s+(nats:\/\/127\.0\.0\.1:\d+)/.exec(dev.output)?.[1];
  const anonymous = await natsConnect({ servers: natsUrl!, timeout: 2_000 }).then(() => 'connected', (e: { code?: string }) => e.code);
  t.equal(anonymous, 'AUTHORIZATION_VIOLATION', 'its nats-server refuses a client without credentials');

  connector = await startConnectorProc({ tunnel_token: token.secret!, upstream: upstream.url, gateway: `http://127.0.0.1:${port}`, model: 'llama3.1:8b' });
  t.match(connector.output, /Tunnel established/);

  const client = new OpenAI({ apiKey: key.secret!, baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
  const res = await client.chat.completions.create({ model: 'llama3', messages: [{ role: 'user', content: 'Hello!' }] });
  t.equal(res.choices[0]?.message.content, 'Hello, world!');
  t.equal(upstream.requests.at(-1)?.body.model, 'llama3.1:8b');

  await admin('key', 'revoke', key.id!);
  let status = 0;
  // NATS_URL (dead) does not answer: the command publishes on the dev stack's NATS as the admin role, signed
  for (const deadline = Date.now() + 3_000; Date.now() < deadline && status !== 401; ) {
    status = await client.chat.completions.create({ model: 'llama3', messages: [{ role: 'user', content: 'x' }] }).then(() => 200, (e: { status: number }) => e.status);
  }
  t.equal(status, 401, 'revoked key refused');

  dev.signal('SIGTERM');
  const exit = await dev.exited;
  t.equal(exit.code, 0, 'dev stack exits cleanly on SIGTERM');
});

t.test('bad usage and bad config fail with clear messages', async (t) => {
  const env = { PATH: process.env.PATH, TOKIOS_DATA_DIR: await mkdtemp(join(tmpdir(), 'tokios-bad-')) };
  const fail = (args: string[], extra: Record<string, string> = {}) =>
    run(process.execPath, [CLI, ...args], { env: { ...env, ...extra } }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
  let r = await fail(['frobnicate']);
  t.equal(r.code, 2);
  t.match(r.stderr, /unknown command "frobnicate"/);
  r = await fail(['admin', 'key', 'create']);
  t.equal(r.code, 2);
  t.match(r.stderr, /missing --tenant/);
  r = await fail(['connector', '--config', '/nonexistent/tokios.json']);
  t.equal(r.code, 2);
  t.match(r.stderr, /cannot read \/nonexistent\/tokios\.json/);
  r = await fail(['ingress'], { TOKIOS_INGRESS_PORT: 'eighty' });
  t.equal(r.code, 2);
  t.match(r.stderr, /TOKIOS_INGRESS_PORT/);
  // nats.js would ignore these credentials (and read the password as the port) and retry forever, silently
  r = await fail(['ingress'], { NATS_URL: 'nats://tokios:123secret@127.0.0.1:4222' });
  t.equal(r.code, 2);
  t.match(r.stderr, /NATS_URL: the URL carries credentials, which nats\.js ignores: set NATS_USER and NATS_PASSWORD/);
  t.notMatch(r.stderr, /123secret/, 'the password is not echoed');
  r = await fail(['terminator'], { NATS_USER: 'tokios', NATS_TOKEN: 'abc' });
  t.equal(r.code, 2);
  t.match(r.stderr, /NATS_TOKEN: set only one way to authenticate to NATS, not both NATS_USER and NATS_TOKEN/);
  r = await fail(['control'], { TOKIOS_ADMIN_TOKEN: 'x'.repeat(30), NATS_CREDS: '/nonexistent/tokios.creds' });
  t.equal(r.code, 2);
  t.match(r.stderr, /NATS_CREDS: cannot read \/nonexistent\/tokios\.creds: ENOENT/);
});
