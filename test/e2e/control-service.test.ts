import t from 'tap';
import { freePort } from '../support/ports.js';
import {
  AdminClient, NatsServer, OpenAIUpstream, seed, spawnCli, startConnectorProc, startTerminatorProc, eventually, type Proc, type Seeded,
} from '../support/index.js';

const ADMIN = 'ta-test-operator-token-service-012345678';

let nats: NatsServer;
let seeded: Seeded;
const procs: Proc[] = [];

t.before(async () => {
  nats = await NatsServer.start();
  seeded = await seed(['svc-model']);
});

t.teardown(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  await nats.stop();
});

t.test('tokios control refuses to start without a valid TOKIOS_ADMIN_TOKEN', async (t) => {
  for (const token of [undefined, 'short']) {
    const p = spawnCli('control', ['control'], { NATS_URL: nats.url, TOKIOS_DATA_DIR: seeded.dataDir, ...(token ? { TOKIOS_ADMIN_TOKEN: token } : {}) });
    const { code } = await p.exited;
    t.equal(code, 2);
    t.match(p.output, /invalid control environment:\n {2}TOKIOS_ADMIN_TOKEN: /);
  }
});

t.test('separate processes: control sees a terminator\'s connectors and its revocation disconnects them', async (t) => {
  const env = { NATS_URL: nats.url, TOKIOS_DATA_DIR: seeded.dataDir };
  const port = await freePort();
  const control = spawnCli('control', ['control'], { ...env, TOKIOS_ADMIN_TOKEN: ADMIN, TOKIOS_CONTROL_HOST: '127.0.0.1', TOKIOS_CONTROL_PORT: String(port) });
  procs.push(control);
  await control.waitFor(/control listening/);
  t.notMatch(control.output, new RegExp(ADMIN), 'the token is not logged');
  const term = await startTerminatorProc(env);
  procs.push(term.proc);
  const up = await OpenAIUpstream.start('svc-upstream');
  t.teardown(() => up.close());

  const base = `http://127.0.0.1:${port}`;
  t.equal((await fetch(`${base}/healthz`)).status, 200);
  t.match(await (await fetch(`${base}/dashboard`)).text(), /<title>Tokios dashboard<\/title>/);
  const A = new AdminClient(base, { bearer: ADMIN, headers: { 'x-tokios-tenant': seeded.tenantId } });
  const dep = seeded.deployments['svc-model']!;
  const conn = await startConnectorProc({ tunnel_token: dep.token, upstream: up.url, gateway: term.url, model: up.model });
  procs.push(conn);

  const s = await eventually('online through the control service', async () => {
    const r = await A.get(`/deployments/${dep.id}`);
    return r.body.deployment.status.online ? r.body.deployment.status : undefined;
  });
  t.match(s.connectors, [{ models: ['svc-upstream'], tunnels: 2 }]);
  const fleet = await A.as({ bearer: ADMIN }).get('/status');
  t.match(fleet.body, { known: true, deployments: { [dep.id]: { online: true } } });

  t.equal((await A.post(`/tokens/${dep.tokenId}/revoke`)).status, 200);
  const { code } = await conn.exited;
  t.equal(code, 1);
  t.match(conn.output, /tunnel token was revoked/);
  t.match(term.proc.output, /tunnel token revoked/, 'the terminator process acted on the event');
  await eventually('offline', async () => !(await A.get(`/deployments/${dep.id}`)).body.deployment.status.online);
});
