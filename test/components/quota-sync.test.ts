// QuotaLimiter's sync rounds on a real nats-server: a replica that reaches its publish point near a limit admits
// nothing more for that key until every peer has answered, however late their deltas are. The lateness is made
// deterministic by holding what the server delivers to one replica (B) in a TCP gate: B still publishes, hears nothing.
import t, { type Test } from 'tap';
import { connect } from 'nats';
import { silentLogger } from '@tokios/shared/log';
import { FabricKey } from '@tokios/shared/fabric-auth';
import { QuotaLimiter } from '@tokios/ingress';
import { NatsServer, TcpGate, until } from '../support/index.js';

const KEY = 'key_sync';
const LIMITS = { requestsPerMinute: 60 };

async function pair(t: Test, syncWaitMs: number): Promise<{ a: QuotaLimiter; b: QuotaLimiter; gate: TcpGate }> {
  const nats = await NatsServer.start();
  const gate = await TcpGate.start(nats.port);
  const [ncA, ncB] = await Promise.all([connect({ servers: nats.url }), connect({ servers: gate.url })]);
  const options = { syncMs: 1_000, maxKeys: 1_000, syncWaitMs };
  const a = new QuotaLimiter(ncA, new FabricKey(undefined), 'ing_a', options, silentLogger());
  const b = new QuotaLimiter(ncB, new FabricKey(undefined), 'ing_b', options, silentLogger());
  t.teardown(async () => {
    a.close();
    b.close();
    await Promise.all([ncA.close(), ncB.close()]);
    await gate.close();
    await nats.stop();
  });
  a.start();
  b.start();
  await until(() => a.replicas === 2 && b.replicas === 2, 10_000, 'the replicas know each other');
  return { a, b, gate };
}

/** Checks on `q` until one is not an admission: how many were admitted, and what came instead. */
function admitAll(q: QuotaLimiter): { admitted: number; then: ReturnType<QuotaLimiter['check']> } {
  for (let admitted = 0; admitted < 1_000; admitted++) {
    const r = q.check(KEY, LIMITS);
    if (r !== undefined) return { admitted, then: r };
  }
  throw new Error('never refused');
}

t.test('near the limit, a replica whose peer is silent waits for its answer instead of admitting the rest', async (t) => {
  const { a, b, gate } = await pair(t, 30_000);
  gate.hold('down');
  // B sees none of A's counts. Its publish point: p·n ≥ limit − published = 60 at p = 30 (n = 2).
  const first = admitAll(b);
  t.equal(first.admitted, 30, 'admitted up to its publish point');
  t.ok(first.then instanceof Promise, 'then a wait, not a refusal and not an admission (the old rule admitted all 60)');
  const again = b.check(KEY, LIMITS);
  t.ok(again instanceof Promise, 'and so every request for that key while the round is open');
  // A heard B's 30 and answered; B gets the answer (and A's counts) once the gate lets them through.
  await until(() => a.syncStats.rounds === 0, 1_000, 'A opened no round of its own');
  gate.release('down');
  await first.then;
  t.equal(b.syncStats.timedOut, 0, 'ended by the answer, not by the timeout');
  t.equal(b.syncStats.rounds, 1);
  // A sees B's 30: its own publish point is at p·2 ≥ 60 − 30.
  await until(() => a.check(KEY, LIMITS) === undefined && a.check(KEY, LIMITS) === undefined, 1_000, 'A admits');
});

t.test('a peer that never answers (gone, or an older version) holds the key only until the round times out', async (t) => {
  const { b, gate } = await pair(t, 200);
  gate.hold('down');
  const first = admitAll(b);
  t.equal(first.admitted, 30);
  t.ok(first.then instanceof Promise);
  const t0 = Date.now();
  await first.then;
  const waited = Date.now() - t0;
  t.ok(waited >= 150, `waited ${waited} ms for the 200 ms round`);
  t.equal(b.syncStats.timedOut, 1, 'the round ended on its timeout');
  t.equal(b.check(KEY, LIMITS), undefined, 'and the key is admitted again, against its own view');
});

t.test('keys far from their limit, or without one, never wait', async (t) => {
  const { b, gate } = await pair(t, 30_000);
  gate.hold('down');
  for (let i = 0; i < 20; i++) t.equal(b.check('key_far', { requestsPerMinute: 10_000 }), undefined);
  for (let i = 0; i < 20; i++) t.equal(b.check('key_free', null), undefined);
  t.equal(b.syncStats.rounds, 0);
});
