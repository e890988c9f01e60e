// Issue 8 finding 2: one terminator announcement used to send every connector, with its long-lived tunnel token, to
// the announced URL. Now a connector moves only to a peer on the gateway's host (or the operator's allow-list),
// never from wss to ws (services/connector/test/peer-policy.test.ts), and presents the peer a short-lived ticket
// from its current terminator instead of the token. Finding 10 (tunnels per token, upgrade rate) is checked here too.
import t from 'tap';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import { connect as natsConnect } from 'nats';
import { issueTunnelTicket, publishSigned } from '@tokios/shared/fabric-auth';
import { subjects } from '@tokios/shared/subjects';
import { FrameKind, encodeFrame } from '@tokios/shared/protocol';
import { TestFabric, chat, connectorTunnels, quickScript, testFabricKey, until } from '../support/index.js';

/** A TCP listener that counts connections and keeps what each one sent first (the HTTP upgrade request). */
interface Recorder {
  server: Server;
  port: number;
  firstChunks: string[];
}

/** Listens on `host`; forwards to `forwardPort` on 127.0.0.1 when given, else drops every connection. */
function recorder(host: string, forwardPort?: number): Promise<Recorder> {
  return new Promise((resolve, reject) => {
    const sockets: Socket[] = [];
    const r: Recorder = {
      server: createServer((client) => {
        sockets.push(client);
        client.once('data', (d: Buffer) => r.firstChunks.push(d.toString('latin1')));
        client.on('error', () => undefined);
        if (forwardPort === undefined) {
          client.once('data', () => client.destroy());
          return;
        }
        const upstream = netConnect({ host: '127.0.0.1', port: forwardPort });
        sockets.push(upstream);
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
      }),
      port: 0,
      firstChunks: [],
    };
    r.server.once('error', reject);
    r.server.listen(0, host, () => {
      r.port = (r.server.address() as { port: number }).port;
      r.server.on('close', () => sockets.forEach((s) => s.destroy()));
      resolve(r);
    });
  });
}

const closeRecorder = (r: Recorder): Promise<void> => new Promise((resolve) => {
  r.server.close(() => resolve());
  r.server.emit('close');
});

/** Opens a tunnel socket with a bearer credential: resolves with the socket, or the HTTP status of a refusal. */
function openTunnel(url: string, credential: string): Promise<{ ws?: WebSocket; status?: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${credential}` }, perMessageDeflate: false });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode });
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

const hello = (connectorId: string) =>
  encodeFrame(FrameKind.Hello, 0, { connectorId, version: 'test', upstreamKind: 'openai', models: [], maxConcurrency: 1, healthy: true, draining: false });

/** A registered tunnel (Hello answered by Welcome), closed by the test's teardown. */
async function tunnel(t: { teardown(fn: () => unknown): void }, url: string, credential: string): Promise<WebSocket | number> {
  const { ws, status } = await openTunnel(url, credential);
  if (!ws) return status!;
  t.teardown(() => ws.terminate());
  ws.on('error', () => undefined);
  const welcome = new Promise<void>((resolve) => ws.once('message', () => resolve()));
  ws.send(hello(`con_${Math.random().toString(36).slice(2, 10)}`));
  await welcome;
  return ws;
}

t.test('connectors move only to trusted peers, and with a ticket', async (t) => {
  const f = await TestFabric.start(t, { deployments: ['model-a', 'model-b'] });
  const [ingress, term, up] = await Promise.all([f.ingress(), f.terminator(), f.upstream()]);
  up.script = () => quickScript('ok');
  const dep = f.seeded.deployments['model-a']!;
  const connector = await f.connector('model-a', up, term.url, { tunnels: 2 });
  const nc = await natsConnect({ servers: f.natsUrl });
  t.teardown(() => nc.close());
  const key = testFabricKey();

  await t.test('a peer on another host is refused, even when its announcement is signed', async (t) => {
    // Signed: as a fabric member with the secret (or a terminator with a wrong TOKIOS_PUBLIC_TUNNEL_URL) would send.
    const foreign = await recorder('127.0.0.2');
    t.teardown(() => closeRecorder(foreign));
    publishSigned(nc, key, subjects.presence, JSON.stringify({ id: 'trm_foreign', url: `ws://127.0.0.2:${foreign.port}/v1/tunnel` }));
    await connector.waitFor(/"peerId":"trm_foreign","reason":"host is neither[^\n]*peer terminator refused/, 15_000);
    t.same(foreign.firstChunks, [], 'nothing dialled the foreign host');
    t.notMatch(connector.output, /moving tunnel to another terminator/, 'no move was started');
  });

  await t.test('the move to a peer on the gateway host presents a ticket, never the tunnel token', async (t) => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const proxy = await recorder('127.0.0.1', port);
    t.teardown(() => closeRecorder(proxy));
    const term2 = await f.terminator({ TOKIOS_PUBLIC_TUNNEL_URL: `ws://127.0.0.1:${proxy.port}/v1/tunnel` }, port);
    await until(() => [...connectorTunnels(connector).values()].includes(term2.id), 30_000, 'a tunnel to move to the second terminator');
    const upgrade = proxy.firstChunks.find((c) => c.startsWith('GET '));
    t.ok(upgrade, 'the connector dialled the peer');
    t.match(upgrade, /\r\nauthorization: Bearer tkt1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.\d{13}\.[A-Za-z0-9_-]{43}\r\n/i, 'with a ticket');
    t.notMatch(upgrade, dep.token, 'the tunnel token never went to the peer');
    t.equal((await chat(ingress.url, f.seeded.apiKey, {})).status, 200, 'still serving');
  });

  await t.test('a ticket is only as good as its signature, expiry and token', async (t) => {
    const good = issueTunnelTicket(key, dep.id, dep.tokenId)!;
    const fresh = await tunnel(t, term.url, good);
    t.type(fresh, WebSocket, 'a valid ticket opens a tunnel');
    const expired = issueTunnelTicket(key, dep.id, dep.tokenId, Date.now() - 10 * 60_000)!;
    t.equal(await tunnel(t, term.url, expired), 401, 'an expired ticket is refused');
    const other = f.seeded.deployments['model-b']!;
    const [, , , exp, mac] = good.split('.');
    t.equal(await tunnel(t, term.url, `tkt1.${other.id}.${dep.tokenId}.${exp}.${mac}`), 401, 'a ticket moved to another deployment is refused');
    t.equal(await tunnel(t, term.url, `tkt1.${dep.id}.${other.tokenId}.${exp}.${mac}`), 401, 'a ticket moved to another token is refused');
  });
});

t.test('finding 10: tunnels per token are capped, and so is the upgrade rate', async (t) => {
  const f = await TestFabric.start(t, { deployments: ['model-a'] });
  const [capped, slow] = await Promise.all([f.terminator({ TOKIOS_MAX_TUNNELS_PER_TOKEN: '2' }), f.terminator({ TOKIOS_TUNNEL_UPGRADES_PER_MIN: '2' })]);
  const token = f.seeded.deployments['model-a']!.token;
  const first = await tunnel(t, capped.url, token);
  t.type(first, WebSocket);
  t.type(await tunnel(t, capped.url, token), WebSocket);
  t.equal(await tunnel(t, capped.url, token), 429, 'a third live tunnel with the same token is refused');
  (first as WebSocket).terminate();
  await capped.proc.waitFor(/tunnel closed/);
  t.type(await tunnel(t, capped.url, token), WebSocket, 'a freed place can be taken');
  t.match(capped.proc.output, /"reason":"this tunnel token already holds 2 tunnels here[^\n]*"msg":"tunnel upgrade refused"/);

  t.type(await tunnel(t, slow.url, token), WebSocket);
  t.type(await tunnel(t, slow.url, token), WebSocket);
  t.equal(await tunnel(t, slow.url, token), 429, 'the third upgrade within the minute is refused (2 a minute)');
  await slow.proc.waitFor(/tunnel upgrade refused/);
  t.match(slow.proc.output, /"reason":"too many tunnel upgrades with this token[^\n]*"msg":"tunnel upgrade refused"/);
});
