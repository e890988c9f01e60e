import t from 'tap';
import { runAdmin } from 'tokios';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI, EventTap, seed, startDevStack, type DevStack } from '../support/index.js';

const run = promisify(execFile);

const ADMIN = 'ta-test-operator-token-cli-0123456789ab';

let stack: DevStack;
let events: EventTap;

t.before(async () => {
  stack = await startDevStack(['cli-model'], { TOKIOS_ADMIN_TOKEN: ADMIN });
  events = await EventTap.start(stack.nats.url);
});

t.teardown(async () => {
  await events.close();
  await stack.close();
});

/** `tokios admin` in-process (the command loads in ~2 s per process here; a few real processes run below). */
async function admin(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runAdmin(args, { PATH: process.env.PATH, ...env }, { write: (s: string) => (out += s) }, { write: (s: string) => (err += s) });
  return { code, out, err };
}

/** The real command: stdout and stderr apart. */
async function adminProc(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<{ code: number | null; out: string; err: string }> {
  return run(process.execPath, [CLI, 'admin', ...args], { cwd, env: { PATH: process.env.PATH, LOG_LEVEL: 'silent', ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, out: stdout, err: stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
  );
}

t.test('local store: same commands and --json as before, plus control events on NATS', async (t) => {
  const env = { TOKIOS_DATA_DIR: stack.seeded.dataDir, NATS_URL: stack.nats.url };
  let r = await admin(['tenant', 'create', '--name', 'local-co', '--json'], env);
  t.equal(r.code, 0, r.out + r.err);
  const tenant = JSON.parse(r.out);
  t.same(Object.keys(tenant).sort(), ['console', 'createdAt', 'id', 'name']);

  r = await admin(['key', 'create', '--tenant', tenant.id, '--json'], env);
  const key = JSON.parse(r.out);
  t.match(key, { id: /^key_/, tenantId: tenant.id, name: 'default', prefix: /^sk-tokios-/, hash: /^[0-9a-f]{64}$/, revokedAt: null, secret: /^sk-tokios-/ });

  r = await admin(['key', 'limits', key.id, '--rpm', '30'], env);
  t.equal(r.code, 0);
  t.match(r.out, /30 req\/min/);
  await events.waitFor('tokios.ctl.key_changed', (d) => d.keyId === key.id);
  r = await adminProc(['key', 'revoke', key.id], env);
  t.equal(r.out.trim(), `key ${key.id} revoked`, 'the real command');
  t.same(await events.waitFor('tokios.ctl.key_revoked', (d) => d.keyId === key.id), { keyId: key.id, hash: key.hash });

  const dep = stack.seeded.deployments['cli-model']!;
  r = await admin(['token', 'revoke', dep.tokenId], env);
  t.equal(r.code, 0);
  await events.waitFor('tokios.ctl.token_revoked', (d) => d.tokenId === dep.tokenId);

  r = await admin(['deployment', 'status', dep.id], env);
  t.equal(r.code, 0);
  t.match(r.out, new RegExp(`${dep.id}  cli-model  offline`));

  r = await admin(['tenant', 'console-secret', tenant.id], env);
  t.match(r.out, /tc-tokios-[A-Za-z0-9]{40}/);

  // NATS_URL is dead, but the dev stack on this data dir recorded where its NATS is: the event still goes out.
  const k2 = JSON.parse((await admin(['key', 'create', '--tenant', tenant.id, '--json'], env)).out) as { id: string };
  r = await admin(['key', 'revoke', k2.id], { TOKIOS_DATA_DIR: stack.seeded.dataDir, NATS_URL: 'nats://127.0.0.1:1' });
  t.equal(r.code, 0);
  await events.waitFor('tokios.ctl.key_revoked', (d) => d.keyId === k2.id);

  const lone = await seed(['lone-model']);
  r = await admin(['key', 'revoke', lone.keyId], { TOKIOS_DATA_DIR: lone.dataDir, NATS_URL: 'nats://127.0.0.1:1' });
  t.equal(r.code, 0, 'works without NATS');
  t.match(r.err, /note: no NATS answered/);

  r = await admin(['key', 'limits', key.id, '--rpm', 'lots'], env);
  t.equal(r.code, 2);
  t.match(r.err, /--rpm must be a whole number/);
  r = await admin(['key', 'revoke', 'key_0000000000000000'], env);
  t.equal(r.code, 1);
  t.match(r.err, /error: No API key key_0000000000000000/);
});

t.test('the store admin opened is named on stderr; from another folder it refuses instead of making an empty one', async (t) => {
  let r = await admin(['tenant', 'list'], { TOKIOS_DATA_DIR: stack.seeded.dataDir });
  t.equal(r.code, 0);
  t.equal(r.err, `store: SQLite ${join(stack.seeded.dataDir, 'tokios.db')}\n`, 'the file, on stderr only');
  t.notMatch(r.out, /store:/);

  const elsewhere = await mkdtemp(join(tmpdir(), 'tokios-elsewhere-'));
  t.teardown(() => rm(elsewhere, { recursive: true, force: true }));
  r = await adminProc(['key', 'list', '--tenant', 'ten_0000000000000000'], {}, elsewhere);
  t.equal(r.code, 1, 'no store in ./.tokios: refused');
  t.match(r.err, `error: no Tokios store in ${join(elsewhere, '.tokios')} (TOKIOS_DATA_DIR is not set, so ./.tokios in ${elsewhere}).`);
  t.match(r.err, /set TOKIOS_DATA_DIR to the data dir of your stack/);
  t.match(r.err, /To start a new store here: tokios admin tenant create --name NAME/);
  t.same(await readdir(elsewhere), [], 'nothing was created');
  const missing = join(elsewhere, 'data');
  r = await admin(['tenant', 'list'], { TOKIOS_DATA_DIR: missing });
  t.equal(r.code, 1);
  t.match(r.err, `error: no Tokios store in ${missing} (TOKIOS_DATA_DIR=${missing})`);

  r = await admin(['tenant', 'create', '--name', 'first', '--json'], { TOKIOS_DATA_DIR: missing });
  t.equal(r.code, 0, 'tenant create starts a new store');
  t.equal(r.err, `store: SQLite ${join(missing, 'tokios.db')} (new, empty: created now)\n`);
  r = await admin(['tenant', 'list'], { TOKIOS_DATA_DIR: missing });
  t.equal(r.err, `store: SQLite ${join(missing, 'tokios.db')}\n`);
  t.match(r.out, /first/);
});

t.test('through the admin API: operator token, then a console secret', async (t) => {
  const url = `http://127.0.0.1:${stack.dev.port}`;
  const asOp = { TOKIOS_ADMIN_URL: url, TOKIOS_ADMIN_TOKEN: ADMIN };
  let r = await adminProc(['tenant', 'create', '--name', 'api-co', '--json'], asOp);
  t.equal(r.code, 0, r.out + r.err);
  const tenant = JSON.parse(r.out);
  r = await admin(['tenant', 'console-secret', tenant.id, '--json'], asOp);
  const secret = JSON.parse(r.out).secret as string;
  t.match(secret, /^tc-tokios-/);
  r = await admin(['key', 'create', '--tenant', tenant.id, '--name', 'ops', '--json'], asOp);
  t.match(JSON.parse(r.out), { tenantId: tenant.id, name: 'ops', secret: /^sk-tokios-/ });
  r = await admin(['key', 'list'], asOp);
  t.equal(r.code, 2, 'the operator must name the tenant, as with the local store');
  t.match(r.err, /missing --tenant/);

  const asTenant = { TOKIOS_ADMIN_URL: url, TOKIOS_CONSOLE_SECRET: secret };
  r = await admin(['key', 'list'], asTenant);
  t.equal(r.code, 0);
  t.match(r.out, /ops/);
  r = await admin(['deployment', 'create', '--name', 'api-model', '--json'], asTenant);
  const dep = JSON.parse(r.out);
  t.match(dep, { id: /^dep_/, tenantId: tenant.id, name: 'api-model' });
  r = await admin(['token', 'create', '--deployment', dep.id], asTenant);
  t.match(r.out, /tt-tokios-/);
  r = await admin(['invite', 'create', '--deployment', dep.id, '--expires-in', '2h', '--max-uses', '2', '--json'], asTenant);
  t.match(JSON.parse(r.out), { deploymentId: dep.id, maxUses: 2, code: /^ti-tokios-/ });
  r = await admin(['deployment', 'status', dep.id], asTenant);
  t.match(r.out, /api-model  offline/);
  r = await admin(['usage', '--bucket', '6h'], asTenant);
  t.equal(r.code, 0);
  t.match(r.out, /total  requests 0/);
  r = await admin(['tenant', 'list'], asTenant);
  t.equal(r.code, 1);
  t.match(r.err, /error: This route needs the operator token, not a console secret/);
  r = await admin(['token', 'revoke', stack.seeded.deployments['cli-model']!.tokenId], asTenant);
  t.equal(r.code, 1, "another tenant's token is not found");
  t.match(r.err, /error: No tunnel token/);
});
