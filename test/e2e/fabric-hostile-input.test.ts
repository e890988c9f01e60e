// Issue item 11: hostile input never crashes a service. Garbage and text frames on the tunnel endpoint, wrong tokens,
// oversized frames, malformed NATS messages on the request, terminator-control and ingress-inbox subjects, and a
// connector that stops reading (the terminator cuts it once its send buffer passes the limit). After each, the
// services still serve a normal request.
import t from 'tap';
import { connect as netConnect } from 'node:net';
import { readFile } from 'node:fs/promises';
import { WebSocket } from 'ws';
import { connect as natsConnect, type Msg } from 'nats';
import { FrameKind, decodeFrame, encodeFrame, encodeWithMeta } from '@tokios/shared/protocol';

/** A frame with metadata of any shape: encodeFrame types metadata by kind, hostile input must not be. */
const hostileFrame = (kind: FrameKind, id: number, meta: unknown, payload?: Uint8Array): Buffer =>
  encodeWithMeta(kind, id, Buffer.from(JSON.stringify(meta)), payload);
import { publishSigned } from '@tokios/shared/fabric-auth';
import { TestFabric, quickScript, slowScript, testFabricKey, until, within, type Proc } from '../support/index.js';

const MB = 1024 * 1024;

const hello = (connectorId: string, maxConcurrency = 8) =>
  encodeFrame(FrameKind.Hello, 0, { connectorId, version: 'hostile', upstreamKind: 'openai', models: [], maxConcurrency, healthy: true, draining: false });

/** Opens a tunnel socket; resolves with the socket once open, or the HTTP status of a refused upgrade. */
function openTunnel(url: string, token: string | undefined): Promise<{ ws?: WebSocket; status?: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, perMessageDeflate: false, maxPayload: 64 * MB });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode });
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

/** Waits for the terminator to close the socket; resolves with the close code. */
const closed = (ws: WebSocket): Promise<number> =>
  new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve(-1);
    ws.once('close', (code) => resolve(code));
  });

/** Opens a tunnel with a valid token and Hello, waiting for Welcome. */
async function helloed(url: string, token: string, connectorId: string, maxConcurrency = 8): Promise<WebSocket> {
  const { ws } = await openTunnel(url, token);
  if (!ws) throw new Error('tunnel refused');
  ws.on('error', () => undefined);
  const welcome = new Promise<void>((resolve) => ws.once('message', () => resolve()));
  ws.send(hello(connectorId, maxConcurrency));
  await within(welcome, 5_000, 'Welcome');
  return ws;
}

async function rssMb(proc: Proc): Promise<number> {
  const status = await readFile(`/proc/${proc.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

t.test('hostile input', async (t) => {
  const f = await TestFabric.start(t, { deployments: ['model-a', 'model-stuck', 'model-hostile'] });
  const [ingress, term, up] = await Promise.all([
    f.ingress(),
    f.terminator({ TOKIOS_MAX_TUNNEL_BUFFER_BYTES: String(MB) }),
    f.upstream(),
  ]);
  const connector = await f.connector('model-a', up, term.url);
  up.script = () => quickScript('still here');
  const client = f.client(ingress);
  // Hand-made tunnels use a deployment of their own: a real request must never be placed on one of them.
  const token = f.seeded.deployments['model-hostile']!.token;
  const ingressId = (await ingress.proc.waitFor(/"ingressId":"(ing_[0-9a-f]+)"/))[1]!;

  const stillServing = async (t: { equal: (...a: never[]) => unknown; ok: (...a: never[]) => unknown }, what: string): Promise<void> => {
    const r = await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: what }] });
    (t.equal as (a: unknown, b: unknown, m: string) => void)(r.choices[0]?.message.content, 'still here', `still serving after ${what}`);
    (t.ok as (a: unknown, m: string) => void)(ingress.proc.running && term.proc.running && connector.running, 'no service crashed');
  };

  await t.test('tunnel upgrade with a wrong, missing or oversized token: 401', async (t) => {
    t.equal((await openTunnel(term.url, 'tok_wrong_wrong_wrong')).status, 401, 'wrong token');
    t.equal((await openTunnel(term.url, undefined)).status, 401, 'no token');
    t.equal((await openTunnel(term.url, 'x'.repeat(5000))).status, 401, 'oversized token');
    t.equal((await openTunnel(term.url.replace('/v1/tunnel', '/elsewhere'), token)).status, 404, 'not the tunnel path');
    // Not even HTTP.
    await new Promise<void>((resolve) => {
      const s = netConnect({ port: term.port, host: '127.0.0.1' }, () => s.end(Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 13, 10, 13, 10])));
      s.on('data', () => undefined);
      s.on('error', () => resolve());
      s.on('close', () => resolve());
    });
    await stillServing(t, 'bad upgrades');
  });

  await t.test('garbage, text and malformed frames close the tunnel with 4003', async (t) => {
    const cases: [string, (ws: WebSocket) => void, boolean][] = [
      ['random bytes before Hello', (ws) => ws.send(Buffer.from('this is not a frame at all, just bytes')), false],
      ['a frame shorter than its header', (ws) => ws.send(Buffer.from([1, 0, 0])), false],
      ['an unknown frame kind', (ws) => ws.send(hostileFrame(FrameKind.Hello, 0, {}).fill(99, 0, 1)), false],
      ['metadata length past the end', (ws) => ws.send(Buffer.from([1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 2])), false],
      ['metadata that is not JSON', (ws) => ws.send(Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 4]), Buffer.from('{{{{')])), false],
      ['a Hello with bad fields', (ws) => ws.send(hostileFrame(FrameKind.Hello, 0, { connectorId: 'bad id!', maxConcurrency: -1 })), false],
      ['a Request instead of Hello', (ws) => ws.send(hostileFrame(FrameKind.Request, 1, { rid: 'x' })), false],
      ['a text frame', (ws) => ws.send('hello?'), false],
      ['random bytes after Hello', (ws) => ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0, 0])), true],
      ['a short Data frame after Hello', (ws) => ws.send(Buffer.from([FrameKind.Data, 0, 0])), true],
      ['a Status with bad fields after Hello', (ws) => ws.send(hostileFrame(FrameKind.Status, 0, { healthy: 'yes' })), true],
      ['a text frame after Hello', (ws) => ws.send('{"kind":"Hello"}'), true],
    ];
    for (const [name, send, afterHello] of cases) {
      const ws = afterHello ? await helloed(term.url, token, 'con_hostile') : (await openTunnel(term.url, token)).ws!;
      ws.on('error', () => undefined);
      const code = closed(ws);
      send(ws);
      t.equal((await within(code, 5_000, name)).value, 4003, name);
    }
    // Frames for streams that do not exist are ignored, not fatal.
    const ws = await helloed(term.url, token, 'con_hostile2');
    ws.send(encodeFrame(FrameKind.Head, 777, { status: 200, contentType: 'text/plain' }));
    ws.send(encodeFrame(FrameKind.Data, 778, undefined, Buffer.from('nobody asked')));
    ws.send(encodeFrame(FrameKind.End, 779, { frames: 3 }));
    ws.send(encodeFrame(FrameKind.Error, 780, { code: 'x', message: 'y' }));
    ws.send(encodeFrame(FrameKind.Reject, 781, { reason: 'busy', message: 'no' }));
    const pong = new Promise<number>((resolve) => ws.on('message', (d: Buffer) => decodeFrame(d).kind === FrameKind.Pong && resolve(decodeFrame(d).id)));
    ws.send(encodeFrame(FrameKind.Ping, 4242));
    t.equal((await within(pong, 5_000, 'pong')).value, 4242, 'stray stream frames ignored; the tunnel still answers');
    ws.close();
    await stillServing(t, 'garbage frames');
  });

  await t.test('an oversized frame closes the tunnel with 1009', async (t) => {
    const ws = await helloed(term.url, token, 'con_big');
    const code = closed(ws);
    ws.send(Buffer.alloc(2 * MB, 1));
    t.equal((await within(code, 5_000, 'close after an oversized frame')).value, 1009);
    await stillServing(t, 'an oversized frame');
  });

  await t.test('malformed NATS messages on request, control, inbox and presence subjects', async (t) => {
    const nc = await natsConnect({ servers: f.natsUrl });
    t.teardown(() => nc.close());
    const dep = f.seeded.deployments['model-a']!.id;
    const answers: Msg[] = [];
    nc.subscribe('tokios.in.hostile.>', { callback: (_e, m) => answers.push(m) });
    const garbage: Uint8Array[] = [
      new Uint8Array(0),
      Buffer.from([1]),
      Buffer.from('{"kind":"Request"}'),
      Buffer.from([FrameKind.Request, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
      hostileFrame(FrameKind.Request, 0, { rid: 'no good!' }),
      encodeFrame(FrameKind.Request, 0, { rid: 'r1', protocol: 'openai.chat', model: 'model-a', stream: false, bodyLength: 2, deadline: Date.now() + 60_000 }, Buffer.from('way longer than two bytes')),
      encodeFrame(FrameKind.Data, 0, undefined, Buffer.from('data on the request subject')),
      encodeFrame(FrameKind.Ping, 0),
    ];
    await nc.flush();
    for (const g of garbage) {
      nc.publish(`tokios.req.${dep}`, g);
      nc.publish(`tokios.req.${dep}`, g, { reply: 'tokios.in.hostile.r1' });
      nc.publish(`tokios.req.${dep}`, g, { reply: 'not.an.inbox' });
    }
    await nc.flush();
    await until(() => answers.length >= garbage.length, 5_000, 'the terminator to answer each malformed request');
    t.ok(
      answers.every((m) => decodeFrame(m.data).kind === FrameKind.Error),
      `${answers.length} malformed requests with a reply were answered with an Error frame`,
    );

    // A real request in flight, while its control subject and the ingress inbox get garbage.
    up.script = () => slowScript(15, 40);
    let control = '';
    let inbox = '';
    nc.subscribe(`tokios.in.${ingressId}.>`, {
      callback: (_e, m) => {
        if (!control && m.reply?.startsWith('tokios.term.')) {
          control = m.reply;
          inbox = m.subject;
        }
      },
    });
    await nc.flush();
    const stream = await client.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'in flight' }] });
    const text = (async () => {
      let s = '';
      for await (const c of stream) s += c.choices[0]?.delta.content ?? '';
      return s;
    })();
    await until(() => control !== '', 5_000, 'the in-flight request to be acknowledged');
    const termPrefix = control.slice(0, control.lastIndexOf('.'));
    const notBodyOrCancel = [
      new Uint8Array(0),
      Buffer.from([7, 7]),
      Buffer.from('plain text'),
      encodeFrame(FrameKind.Data, 0, undefined, Buffer.from('x')),
      hostileFrame(FrameKind.Request, 0, { rid: 'zz' }),
      Buffer.from([99, 0, 0, 0, 0, 0, 0, 0, 0]),
    ];
    for (const g of notBodyOrCancel) {
      nc.publish(control, g);
      nc.publish(`${termPrefix}.unknown-rid`, g);
      nc.publish(`${termPrefix}.a.b.c`, g);
      nc.publish(`tokios.in.${ingressId}.unknown-rid`, g);
      nc.publish(`tokios.in.${ingressId}`, g);
      nc.publish('tokios.presence.terminator', g);
    }
    nc.publish('tokios.presence.terminator', Buffer.from(JSON.stringify({ id: 'x'.repeat(5000), url: 'javascript:alert(1)' })));
    nc.publish('tokios.presence.terminator', Buffer.from(JSON.stringify({ id: 'trm_fake', url: 12 })));
    await nc.flush();
    t.equal(await within(text, 10_000, 'the in-flight stream').then((x) => x.value), slowScript(15, 40).chunks.join(''), 'the in-flight stream completed intact');
    t.ok(inbox.startsWith(`tokios.in.${ingressId}.`));
    up.script = () => quickScript('still here');
    await stillServing(t, 'malformed NATS messages');
  });

  await t.test('forged terminator announcements do not reach or break connectors', async (t) => {
    const nc = await natsConnect({ servers: f.natsUrl });
    t.teardown(() => nc.close());
    const closesBefore = (connector.output.match(/"msg":"tunnel closed"/g) ?? []).length;
    // Signed (from a holder of the fabric secret) but malformed: the schema check is what refuses them.
    const announce = (body: unknown) => publishSigned(nc, testFabricKey(), 'tokios.presence.terminator', JSON.stringify(body));
    for (const forged of [
      { id: 'trm_evil', url: 'not a url' },
      { id: 'trm_evil2', url: 'javascript:alert(1)' },
      { id: 'bad id!', url: 'ws://127.0.0.1:9/v1/tunnel' },
      { id: 'trm_evil3', url: `http://127.0.0.1:9/${'x'.repeat(3000)}` },
    ]) {
      announce(forged);
    }
    await nc.flush();
    // Something the terminator does handle after them (NATS delivers in order): a garbage request with a reply.
    const sub = nc.subscribe('tokios.in.hostile2.x', { max: 1 });
    nc.publish(`tokios.req.${f.seeded.deployments['model-a']!.id}`, Buffer.from('x'), { reply: 'tokios.in.hostile2.x' });
    for await (const _m of sub) break;
    await stillServing(t, 'forged announcements');
    t.equal((connector.output.match(/"msg":"tunnel closed"/g) ?? []).length, closesBefore, 'no tunnel of the connector was closed');
    t.notMatch(connector.output, /moving tunnel/, 'no tunnel moved to a forged terminator');

    // A well-formed, signed announcement of a terminator that does not exist: one tunnel tries it (gracefully), comes
    // back through the gateway, and does not try it again.
    const upsBefore = (connector.output.match(/"msg":"tunnel up"/g) ?? []).length;
    announce({ id: 'trm_nowhere', url: 'ws://127.0.0.1:9/v1/tunnel' });
    await connector.waitFor(/moving tunnel/, 5_000);
    await until(() => (connector.output.match(/"msg":"tunnel up"/g) ?? []).length > upsBefore, 10_000, 'the tunnel to come back');
    for (let i = 0; i < 3; i++) await stillServing(t, `a phantom terminator (${i})`);
    announce({ id: 'trm_nowhere', leaving: true, url: null });
    announce({ id: 'trm_nowhere', url: 'ws://127.0.0.1:9/v1/tunnel' });
    await stillServing(t, 'the phantom announced itself again');
    t.equal((connector.output.match(/moving tunnel/g) ?? []).length, 1, 'the unreachable peer was not tried again');
  });

  await t.test('a connector that stops reading is cut off; memory stays bounded', async (t) => {
    const stuckToken = f.seeded.deployments['model-stuck']!.token;
    const ws = await helloed(term.url, stuckToken, 'con_stuck', 1000);
    ws.pause(); // reads nothing from now on
    const rssBefore = await rssMb(term.proc);
    // 24 requests of ~900 KB each: far more than the socket buffers and the 1 MB tunnel buffer limit.
    const big = 'y'.repeat(900 * 1024);
    const outcomes = Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        client.chat.completions.create({ model: 'model-stuck', messages: [{ role: 'user', content: `${i}${big}` }] }).then(
          () => 200,
          (e: { status?: number }) => e.status ?? -1,
        ),
      ),
    );
    await term.proc.waitFor(/connector is not reading; closing tunnel/, 20_000);
    t.pass('the terminator cut the tunnel of the connector that stopped reading');
    const statuses = (await within(outcomes, 20_000, 'every request to the stuck connector to end')).value;
    t.ok(statuses.every((s) => s === 502 || s === 503), `every request ended with an error, none hung: ${[...new Set(statuses)].join(', ')}`);
    const rssAfter = await rssMb(term.proc);
    t.ok(rssAfter - rssBefore < 150, `terminator RSS ${rssBefore.toFixed(0)} -> ${rssAfter.toFixed(0)} MB`);
    ws.terminate();
    await stillServing(t, 'a stuck connector');
  });
});
