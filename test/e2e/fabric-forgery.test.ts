// Issue 8 finding 1 (signed fabric messages): a client that can publish on NATS but does not hold
// TOKIOS_FABRIC_SECRET — here on an open NATS, as an insider or a leaked low-privilege credential would — cannot
// revoke a tunnel, 429 a key or steer connectors. Unsigned, wrongly keyed and stale messages are dropped, and so
// are replays of a genuine one. Each check ends with a message the receiver does act on, published after the
// forgeries on the same connection (NATS keeps that order), so "ignored" is observed, not assumed.
import t from 'tap';
import { createServer, type Server } from 'node:net';
import { connect as natsConnect, type NatsConnection } from 'nats';
import { SqliteStore } from '@tokios/shared/store';
import { controlSubject, encodeControlEvent, gatherStatus, publishControlEvent } from '@tokios/shared/control';
import { FabricKey, publishSigned } from '@tokios/shared/fabric-auth';
import { subjects } from '@tokios/shared/subjects';
import { TestFabric, chat, quickScript, testFabricKey, until, within } from '../support/index.js';

const wrongKey = new FabricKey('w'.repeat(40));
const key = testFabricKey();

/** The three forgeries of one message: unsigned, signed with another key, signed a minute ago. */
function publishForged(nc: NatsConnection, subject: string, body: string): void {
  const data = Buffer.from(body);
  nc.publish(subject, data);
  nc.publish(subject, data, { headers: wrongKey.headers(subject, data)! });
  nc.publish(subject, data, { headers: key.headers(subject, data, Date.now() - 60_000)! });
}

function listener(): Promise<{ server: Server; port: number; connections: number }> {
  return new Promise((resolve) => {
    const l = { server: createServer((s) => (l.connections++, s.destroy())), port: 0, connections: 0 };
    l.server.listen(0, '127.0.0.1', () => {
      l.port = (l.server.address() as { port: number }).port;
      resolve(l);
    });
  });
}

t.test('forged control events, quota deltas and presence are ignored', async (t) => {
  const f = await TestFabric.start(t);
  const ingress = await f.ingress();
  const term = await f.terminator();
  const up = await f.upstream();
  const connector = await f.connector('model-a', up, term.url, { tunnels: 2 });
  up.script = () => quickScript('ok');
  const nc = await natsConnect({ servers: f.natsUrl });
  t.teardown(() => nc.close());

  await t.test('a forged quota delta does not 429 a key; a replayed genuine one counts once', async (t) => {
    const store = await SqliteStore.open(f.seeded.dataDir, { pruneIntervalMs: 0 });
    const victim = await store.createApiKey({ tenantId: f.seeded.tenantId, name: 'victim', limits: { requestsPerMinute: 2 } });
    await store.close();
    const sec = Math.floor(Date.now() / 1000);
    publishForged(nc, subjects.quotaDelta, JSON.stringify({ from: 'ing_forger', d: [[victim.record.id, sec, 1000, 0]] }));
    // One genuine delta (1 request elsewhere), then the very same message five more times.
    const genuine = Buffer.from(JSON.stringify({ from: 'ing_peer', d: [[victim.record.id, sec, 1, 0]] }));
    const headers = key.headers(subjects.quotaDelta, genuine)!;
    for (let i = 0; i < 6; i++) nc.publish(subjects.quotaDelta, genuine, { headers });
    // A signed hello from a new replica: the ingress logs it when it gets there, after everything above.
    publishSigned(nc, key, subjects.quotaDelta, JSON.stringify({ from: 'ing_probe', d: [], hello: true }));
    await ingress.proc.waitFor(/"peer":"ing_probe"[^\n]*joined quota sharing/);
    t.notMatch(ingress.proc.output, /"peer":"ing_forger"/, 'the forger never became a peer');
    t.equal((await chat(ingress.url, victim.secret, {})).status, 200, 'the limit (2) is not reached: 1 genuine remote request + this one');
    t.equal((await chat(ingress.url, victim.secret, {})).status, 429, 'the third request of the minute is limited');
    t.match(ingress.proc.output, /"what":"quota deltas"[^\n]*"msg":"fabric message dropped/, 'the drops are logged');
    t.notMatch(ingress.proc.output, new RegExp(`dropped[^\\n]*${victim.record.id}`), 'without the message contents');
  });

  await t.test('a forged presence does not make connectors dial', async (t) => {
    const [forged, genuine] = await Promise.all([listener(), listener()]);
    t.teardown(() => (forged.server.close(), genuine.server.close()));
    publishForged(nc, subjects.presence, JSON.stringify({ id: 'trm_forged', url: `ws://127.0.0.1:${forged.port}/v1/tunnel` }));
    publishSigned(nc, key, subjects.presence, JSON.stringify({ id: 'trm_genuine', url: `ws://127.0.0.1:${genuine.port}/v1/tunnel` }));
    // The connector's two tunnels share one terminator: it moves one to the first peer it is told about (a
    // forged peer, had it been accepted, would have reached it in an earlier Welcome).
    await connector.waitFor(new RegExp(`"target":"ws://127\\.0\\.0\\.1:${genuine.port}/v1/tunnel","msg":"moving tunnel to another terminator"`), 15_000);
    await until(() => genuine.connections > 0, 5_000, 'the connector to dial the signed peer');
    t.equal(forged.connections, 0, 'nobody dialled the forged one');
    t.notMatch(connector.output, new RegExp(`:${forged.port}/`), 'the forged URL never reached the connector');
  });

  await t.test('a forged token_revoked does not close a tunnel; a signed one does', async (t) => {
    const dep = f.seeded.deployments['model-a']!;
    const subject = controlSubject('token_revoked');
    publishForged(nc, subject, encodeControlEvent('token_revoked', { tokenId: dep.tokenId, deploymentId: dep.id }));
    // A status query from the same connection is answered after the terminator handled the three events.
    const statuses = await gatherStatus(nc, { deploymentIds: [dep.id] }, 1_000);
    // (one tunnel may be on its way back from the unreachable peer of the previous test)
    t.ok(statuses.flatMap((s) => s.tunnels).length >= 1, 'the tunnels are still up');
    t.notMatch(term.proc.output, /tunnel token revoked/, 'the terminator did not act on them');
    t.ok(connector.running, 'the connector runs on');
    t.equal((await chat(ingress.url, f.seeded.apiKey, {})).status, 200, 'still serving');
    publishControlEvent(nc, key, 'token_revoked', { tokenId: dep.tokenId, deploymentId: dep.id });
    t.equal((await within(connector.exited, 10_000, 'the connector to exit')).value.code, 1, 'the signed event closed it (4004)');
    t.match(term.proc.output, /"what":"control events"[^\n]*"msg":"fabric message dropped/);
  });
});
