// Issue 9 item 8: --help/-h/--version answered before anything starts; a port in use is one line naming the
// variable (exit 2, no stack trace); LOG_LEVEL validated; a failed `tokios dev` stops the nats-server it started.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { freePort } from '../support/ports.js';
import { NatsServer, TEST_FABRIC_SECRET, seed, spawnCli } from '../support/index.js';

async function occupy(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

t.test('--help, -h and --version on every service command start nothing', async (t) => {
  const dataDir = join(await mkdtemp(join(tmpdir(), 'tokios-cli-ops-')), 'never-created');
  const dead = await freePort();
  for (const cmd of ['dev', 'ingress', 'terminator', 'control']) {
    for (const flag of ['--help', '-h', '--version']) {
      const p = spawnCli(cmd, [cmd, flag], { NATS_URL: `nats://127.0.0.1:${dead}`, TOKIOS_DATA_DIR: dataDir });
      const exit = await p.exited;
      t.equal(exit.code, 0, `tokios ${cmd} ${flag}: exit 0`);
      t.match(p.output, flag === '--version' ? /^tokios \d+\.\d+\.\d+\n$/ : new RegExp(`^tokios ${cmd}\\n`), `tokios ${cmd} ${flag}: prints ${flag === '--version' ? 'the version' : 'its usage'}`);
      t.notMatch(p.output, /"msg"/, 'no service log line');
    }
  }
  t.notOk(existsSync(dataDir), 'no data dir was created');
});

t.test('LOG_LEVEL is validated', async (t) => {
  const p = spawnCli('ingress', ['ingress'], { LOG_LEVEL: 'verbose', NATS_URL: 'nats://127.0.0.1:1' });
  const exit = await p.exited;
  t.equal(exit.code, 2);
  t.match(p.output, /invalid LOG_LEVEL "verbose": use one of fatal, error, warn, info, debug, trace, silent/);
});

t.test('a port in use is one line naming the variable', async (t) => {
  const nats = await NatsServer.start();
  t.teardown(() => nats.stop());
  const seeded = await seed();
  t.teardown(() => rm(seeded.dataDir, { recursive: true, force: true }));
  const busy = await occupy();
  t.teardown(() => busy.server.close());
  const env = { NATS_URL: nats.url, TOKIOS_FABRIC_SECRET: TEST_FABRIC_SECRET, TOKIOS_DATA_DIR: seeded.dataDir };
  for (const [cmd, vars] of [
    ['ingress', { TOKIOS_INGRESS_HOST: '127.0.0.1', TOKIOS_INGRESS_PORT: String(busy.port) }],
    ['terminator', { TOKIOS_TERMINATOR_HOST: '127.0.0.1', TOKIOS_TERMINATOR_PORT: String(busy.port) }],
    ['control', { TOKIOS_CONTROL_HOST: '127.0.0.1', TOKIOS_CONTROL_PORT: String(busy.port), TOKIOS_ADMIN_TOKEN: 'admin-token-for-cli-ops-0123456' }],
  ] as const) {
    const p = spawnCli(cmd, [cmd], { ...env, ...vars });
    const exit = await p.exited;
    const name = Object.keys(vars).find((k) => k.endsWith('_PORT'))!;
    t.equal(exit.code, 2, `${cmd}: exit 2`);
    t.match(p.output, new RegExp(`^port ${busy.port} in use; set ${name}$`, 'm'), `${cmd}: "port ${busy.port} in use; set ${name}"`);
    t.notMatch(p.output, /EADDRINUSE|\n\s+at /, `${cmd}: no raw error or stack trace`);
  }
});

t.test('a tokios dev that cannot start stops the nats-server it started', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'tokios-cli-ops-dev-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const busy = await occupy();
  t.teardown(() => busy.server.close());
  const p = spawnCli('dev', ['dev'], { TOKIOS_DATA_DIR: dataDir, TOKIOS_PORT: String(busy.port), TOKIOS_INGRESS_HOST: '127.0.0.1', NATS_SERVER_BIN: process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server' });
  const exit = await p.exited;
  t.equal(exit.code, 2);
  t.match(p.output, new RegExp(`^port ${busy.port} in use; set TOKIOS_PORT$`, 'm'));
  const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('nats-server') && l.includes(dataDir));
  t.same(left, [], 'no nats-server of this data dir is left running');
});
