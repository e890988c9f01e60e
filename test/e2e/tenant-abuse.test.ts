// Issue 8 finding 10: smaller ways one tenant (or one caller) could wear the gateway down for the others — a
// connector flooding Status frames or rejecting every request (each retry resent the whole body), slow-loris
// sockets on the ingress, and a revoked key's stream running on.
import t from 'tap';
import { connect as netConnect } from 'node:net';
import { connect as natsConnect } from 'nats';
import { SqliteStore, hashSecret } from '@tokios/shared/store';
import { publishControlEvent } from '@tokios/shared/control';
import { FrameKind, encodeFrame, type Frame } from '@tokios/shared/protocol';
import { ScriptedConnector, TestFabric, logLines, slowScript, testFabricKey, within } from '../support/index.js';

t.test('abuse is bounded', async (t) => {
  const f = await TestFabric.start(t, { deployments: ['model-a', 'model-flood', 'model-reject'] });
  const [ingress, term, up] = await Promise.all([f.ingress({ TOKIOS_RECEIVE_TIMEOUT_MS: '1000' }), f.terminator(), f.upstream()]);
  await f.connector('model-a', up, term.url);

  await t.test('a slow-loris request is cut (408) once the receive timeout passes', async (t) => {
    const socket = netConnect({ host: '127.0.0.1', port: Number(new URL(ingress.url).port) });
    let answer = '';
    socket.on('data', (d) => (answer += d.toString()));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // Headers announce a body that never comes.
    socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"mo');
    await within(new Promise((resolve) => socket.once('close', resolve)), 30_000, 'the ingress to close the socket');
    t.match(answer, /^HTTP\/1\.1 408/, 'answered 408 Request Timeout');
  });

  await t.test('a Status flood is cut; repeated statuses change and log nothing', async (t) => {
    const c = await ScriptedConnector.dial(term.url, { connectorId: 'con_flood' }, f.seeded.deployments['model-flood']!.token);
    t.teardown(() => c.close());
    const statusLines = () => logLines(term.proc).filter((l) => l.msg === 'connector status').length;
    const before = statusLines();
    for (let i = 0; i < 200; i++) c.send(encodeFrame(FrameKind.Status, 0, { healthy: true, draining: false }));
    await c.barrier();
    t.equal(statusLines(), before, 'an unchanged status is not logged');
    for (let i = 0; i < 500; i++) c.send(encodeFrame(FrameKind.Status, 0, { healthy: i % 2 === 1, draining: false }));
    t.equal((await within(c.closed, 15_000, 'the flood to be cut')).value, 4003, 'the tunnel is closed (4003)');
    await term.proc.waitFor(/connector status flood; closing tunnel/);
    t.ok(statusLines() - before <= 21, `at most the burst was logged (${statusLines() - before} lines)`);
  });

  await t.test('a connector rejecting everything gets a bounded number of resends', async (t) => {
    const c = await ScriptedConnector.dial(term.url, { connectorId: 'con_reject', maxConcurrency: 64 }, f.seeded.deployments['model-reject']!.token);
    t.teardown(() => c.close());
    let requests = 0;
    let bodyBytes = 0;
    void (async () => {
      for (;;) {
        let frame: Frame;
        try {
          frame = await c.frames.next(10_000);
        } catch {
          return;
        }
        if (frame.kind === FrameKind.Request) {
          requests++;
          bodyBytes += frame.payload.length;
          c.send(encodeFrame(FrameKind.Reject, frame.id, { reason: 'busy', message: 'always busy' }));
        } else if (frame.kind === FrameKind.Body) bodyBytes += frame.payload.length;
      }
    })();
    const big = JSON.stringify({ model: 'model-reject', messages: [{ role: 'user', content: 'x'.repeat(8 * 1024 * 1024) }] });
    const r = await fetch(`${ingress.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${f.seeded.apiKey}`, 'content-type': 'application/json' },
      body: big,
    });
    t.equal(r.status, 503, 'the caller gets 503 capacity');
    t.ok(requests >= 1 && requests <= 8, `the 8 MiB body was sent ${requests} times (at most 64 MiB in all)`);
    t.ok(bodyBytes <= 64 * 1024 * 1024 + 1024 * 1024, `${bodyBytes} body bytes reached the connector`);
  });

  await t.test('revoking a key stops its stream in flight', async (t) => {
    const store = await SqliteStore.open(f.seeded.dataDir, { pruneIntervalMs: 0 });
    const { record, secret } = await store.createApiKey({ tenantId: f.seeded.tenantId, name: 'to-revoke' });
    up.script = () => slowScript(400, 50);
    const r = await fetch(`${ingress.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'long' }] }),
    });
    t.equal(r.status, 200);
    const reader = r.body!.getReader();
    let text = new TextDecoder().decode((await reader.read()).value);
    await store.revokeApiKey(record.id);
    await store.close();
    const nc = await natsConnect({ servers: f.natsUrl });
    publishControlEvent(nc, testFabricKey(), 'key_revoked', { keyId: record.id, hash: hashSecret(secret) });
    await nc.flush();
    await nc.close();
    for (;;) {
      const { value: { value, done } } = await within(reader.read(), 15_000, 'the stream to go on or end');
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    t.match(text, /revoked/, 'the stream ends with an error event naming the revocation');
    t.notMatch(text, /tok399 /, 'the generation did not run to its end');
    await ingress.proc.waitFor(/its requests in flight aborted/);
  });
});
