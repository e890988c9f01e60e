// RelayStream, RequestIntake and TunnelSession together, as a terminator composes them: a real nats-server, real
// WebSockets. The test plays the ingress on NATS and scripted connectors on the tunnels.
import t, { type Test } from 'tap';
import { WebSocketServer } from 'ws';
import { connect, type NatsConnection } from 'nats';
import { silentLogger } from '@tokios/shared/log';
import { subjects } from '@tokios/shared/subjects';
import { FrameKind, MIN_TUNNEL_FRAME_BYTES, PAIR_ROUND_END, PAIR_ROUND_HEADER, decodePairHeartbeat, encodeBatch, encodeFrame, splitBatch, type HelloMeta, type RequestMeta, type StreamBeat } from '@tokios/shared/protocol';
import { RequestIntake, RevokedTokens, TunnelRegistry, TunnelSession, connectorIdentity, type SessionContext, type Tunnel } from '@tokios/terminator';
import { FrameQueue, NatsServer, ScriptedConnector, until } from '../support/index.js';

const DEP = 'dep_relay';
const TERMINATOR = 'trm_relay';
const TOKEN_ID = 'tok_relay';
const INGRESS = 'ing_relay';
const MB = 1024 * 1024;

/** One terminator's intake and tunnel sessions on a fresh nats-server, with the test as ingress and connectors. */
class Harness {
  readonly connectors: ScriptedConnector[] = [];
  private readonly inbox = new Map<string, FrameQueue>();
  /** NATS messages per request inbox, each as the kinds of the frames in it (a Batch holds several). */
  readonly messages = new Map<string, number[][]>();

  private constructor(
    readonly nats: NatsServer,
    readonly terminatorNc: NatsConnection,
    readonly ingressNc: NatsConnection,
    readonly intake: RequestIntake,
    readonly wss: WebSocketServer,
    readonly url: string,
  ) {
    ingressNc.subscribe(`tokios.in.${INGRESS}.>`, {
      callback: (_e, msg) => {
        const rid = msg.subject.slice(`tokios.in.${INGRESS}.`.length);
        const frames = msg.data[0] === FrameKind.Batch ? splitBatch(Buffer.from(msg.data)) : [msg.data];
        this.messages.set(rid, [...(this.messages.get(rid) ?? []), frames.map((f) => f[0]!)]);
        for (const f of frames) this.queue(rid).push(f);
      },
    });
  }

  static async start(t: Test, opts: { ackDeferMs?: number } = {}): Promise<Harness> {
    const nats = await NatsServer.start();
    const [terminatorNc, ingressNc] = await Promise.all([connect({ servers: nats.url }), connect({ servers: nats.url })]);
    const log = silentLogger();
    const registry: TunnelRegistry<Tunnel> = new TunnelRegistry((dep, routable) => intake.setRoutable(dep, routable));
    const intake = new RequestIntake(TERMINATOR, terminatorNc, registry, log, { heartbeatMs: 60_000, ...opts });
    intake.start();
    const ctx: SessionContext = {
      terminatorId: TERMINATOR, pingIntervalMs: 60_000, maxFrameBytes: 4 * MB, maxTunnelBufferBytes: 64 * MB,
      registry, revoked: new RevokedTokens(), peers: () => [], log,
    };
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 4 * MB });
    wss.on('connection', (ws) => new TunnelSession(ws, { deploymentId: DEP, deploymentName: 'model-a', tokenId: TOKEN_ID }, ctx));
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    const address = wss.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const h = new Harness(nats, terminatorNc, ingressNc, intake, wss, `ws://127.0.0.1:${port}`);
    t.teardown(() => h.close());
    return h;
  }

  /** A scripted connector with a registered tunnel; the deployment's request subject is subscribed once it returns. */
  async connector(hello: Partial<HelloMeta> = {}): Promise<ScriptedConnector> {
    const c = await ScriptedConnector.dial(this.url, hello);
    this.connectors.push(c);
    await this.terminatorNc.flush();
    return c;
  }

  /** The scripted connector behind an Ack's connector id (the gateway's id for it: see connectorIdentity). */
  connectorById(id: string): ScriptedConnector {
    const c = this.connectors.find((x) => connectorIdentity(TOKEN_ID, x.connectorId) === id);
    if (!c) throw new Error(`no connector ${id}`);
    return c;
  }

  queue(rid: string): FrameQueue {
    let q = this.inbox.get(rid);
    if (!q) this.inbox.set(rid, (q = new FrameQueue(`ingress inbox ${rid}`)));
    return q;
  }

  /** Publishes a Request as an ingress would; returns the inbox queue of its answer frames. */
  async request(rid: string, body: Buffer, inline = body, meta: Partial<RequestMeta> = {}, reply = subjects.ingressInbox(INGRESS, rid)): Promise<FrameQueue> {
    const m: RequestMeta = {
      rid, protocol: 'openai.chat', model: 'model-a', stream: true, bodyLength: body.length, deadline: Date.now() + 60_000, ingressId: INGRESS, ...meta,
    };
    const q = this.queue(rid);
    this.ingressNc.publish(subjects.request(DEP), encodeFrame(FrameKind.Request, 0, m, inline), { reply });
    await this.ingressNc.flush();
    return q;
  }

  /** Publishes on the request's control subject at the terminator (Body parts, Cancel). */
  async control(rid: string, frame: Buffer): Promise<void> {
    this.ingressNc.publish(subjects.terminator(TERMINATOR, rid), frame);
    await this.ingressNc.flush();
  }

  async close(): Promise<void> {
    this.intake.close('test over');
    await Promise.all(this.connectors.map((c) => c.close()));
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await Promise.all([this.terminatorNc.close(), this.ingressNc.close()]);
    await this.nats.stop();
  }
}

const bytes = (n: number, seed = 1): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 131 + seed) & 0xff));

t.test('placement: least loaded connector first; a Reject re-places on another local tunnel; all rejecting forwards the last Reject', async (t) => {
  const h = await Harness.start(t);
  await h.connector({ maxConcurrency: 4 });
  await h.connector({ maxConcurrency: 4 });

  const r1 = await h.request('r1', Buffer.from('{}'));
  const first = (await r1.expect(FrameKind.Ack)).meta.connectorId;
  const req1 = await h.connectorById(first).frames.expect(FrameKind.Request);
  t.equal(req1.meta.rid, 'r1');
  t.notOk('ingressId' in req1.meta, 'fields meant for the terminator are not forwarded to the connector');
  t.equal(req1.payload.toString(), '{}');

  const r2 = await h.request('r2', Buffer.from('{}'));
  const second = (await r2.expect(FrameKind.Ack)).meta.connectorId;
  t.not(second, first, 'the connector with a stream in flight is passed over');
  await h.connectorById(second).frames.expect(FrameKind.Request);

  // Both carry one stream now. The Ack names the connector placed on first; that one rejects.
  const r3 = await h.request('r3', Buffer.from('body three'));
  const rejecter = h.connectorById((await r3.expect(FrameKind.Ack)).meta.connectorId);
  const other = h.connectors.find((c) => c !== rejecter)!;
  const offered = await rejecter.frames.expect(FrameKind.Request);
  rejecter.send(encodeFrame(FrameKind.Reject, offered.id, { reason: 'busy', message: 'full here' }));
  const moved = await other.frames.expect(FrameKind.Request);
  t.equal(moved.meta.rid, 'r3', 're-placed on the other tunnel');
  t.equal(moved.payload.toString(), 'body three', 'with its body');
  t.equal(h.connectorById((await r3.expect(FrameKind.Ack)).meta.connectorId), other, 'the Ack goes again naming the connector that serves (a session\'s home)');
  other.send(encodeFrame(FrameKind.Head, moved.id, { status: 200, contentType: 'text/plain' }));
  other.send(encodeFrame(FrameKind.End, moved.id, { frames: 0 }));
  t.equal((await r3.expect(FrameKind.Head)).meta.status, 200, 'the answer of the second connector reaches the ingress');
  await r3.expect(FrameKind.End);

  const r4 = await h.request('r4', Buffer.from('{}'));
  const x = h.connectorById((await r4.expect(FrameKind.Ack)).meta.connectorId);
  const y = h.connectors.find((c) => c !== x)!;
  const fx = await x.frames.expect(FrameKind.Request);
  x.send(encodeFrame(FrameKind.Reject, fx.id, { reason: 'busy', message: 'full' }));
  const fy = await y.frames.expect(FrameKind.Request);
  t.equal(h.connectorById((await r4.expect(FrameKind.Ack)).meta.connectorId), y, 'Ack again, naming the connector tried next');
  y.send(encodeFrame(FrameKind.Reject, fy.id, { reason: 'draining', message: 'leaving' }));
  t.same((await r4.expect(FrameKind.Reject)).meta, { reason: 'draining', message: 'leaving' }, 'every local tunnel refused: the last Reject goes to the ingress');

  // r1 and r2 still hold one stream each; with caps of 1 nothing more fits.
  const full = await Harness.start(t);
  const only = await full.connector({ maxConcurrency: 1 });
  const s1 = await full.request('s1', Buffer.from('{}'));
  await s1.expect(FrameKind.Ack);
  await only.frames.expect(FrameKind.Request);
  const s2 = await full.request('s2', Buffer.from('{}'));
  t.same((await s2.expect(FrameKind.Reject)).meta.reason, 'busy', 'a connector at its cap: Reject busy without asking it');
});

t.test('body: the inline part and Body parts reach the connector in frames of the size it announced; Ack at once when parts follow', async (t) => {
  // An Ack deferral far longer than the test: an Ack that arrives proves it was not deferred.
  const h = await Harness.start(t, { ackDeferMs: 600_000 });
  const c = await h.connector({ maxFrameBytes: MIN_TUNNEL_FRAME_BYTES });
  const body = bytes(700 * 1024);
  const q = await h.request('big', body, body.subarray(0, 300 * 1024));
  t.equal((await q.expect(FrameKind.Ack)).meta.terminatorId, TERMINATOR, 'Ack before any answer: the ingress needs it to send the rest');
  await h.control('big', encodeFrame(FrameKind.Body, 0, undefined, body.subarray(300 * 1024, 500 * 1024)));
  await h.control('big', encodeFrame(FrameKind.Body, 0, undefined, body.subarray(500 * 1024)));
  const req = await c.frames.expect(FrameKind.Request);
  const parts = [req.payload];
  let got = req.payload.length;
  while (got < body.length) {
    const f = await c.frames.expect(FrameKind.Body);
    t.equal(f.id, req.id, 'Body frames carry the stream id');
    parts.push(f.payload);
    got += f.payload.length;
  }
  t.ok(Buffer.concat(parts).equals(body), `${body.length} bytes arrived in order, in ${parts.length} frames`);
  t.ok(parts.length >= 6, 'split into more frames than the ingress sent');
  t.ok(c.frames.largest <= MIN_TUNNEL_FRAME_BYTES, `no frame over the announced ${MIN_TUNNEL_FRAME_BYTES} bytes (largest ${c.frames.largest})`);

  await h.control('big', encodeFrame(FrameKind.Body, 0, undefined, Buffer.from('one byte too many')));
  t.equal((await q.expect(FrameKind.Error)).meta.code, 'protocol_error', 'a body longer than announced fails the stream');
  t.equal((await c.frames.expect(FrameKind.Cancel)).id, req.id, 'and the connector is told to stop');
});

t.test('answer: the Ack leaves with the first frame; Data gets sequence numbers (split above max_payload); End counts them', async (t) => {
  const h = await Harness.start(t, { ackDeferMs: 600_000 });
  const c = await h.connector();
  const q = await h.request('ans', Buffer.from('{}'));
  const { id: sid } = await c.frames.expect(FrameKind.Request);
  const big = bytes(MB + MB / 2, 7);
  const small = ['one', 'two', 'three'].map((s) => Buffer.from(s));
  c.send(encodeFrame(FrameKind.Head, sid, { status: 200, contentType: 'text/event-stream' }));
  for (const p of small) c.send(encodeFrame(FrameKind.Data, sid, undefined, p));
  c.send(encodeFrame(FrameKind.Data, sid, undefined, big));
  c.send(encodeFrame(FrameKind.End, sid, { frames: 4, usage: { input_tokens: 3, output_tokens: 5 } }));

  t.same((await q.expect(FrameKind.Ack)).meta, { terminatorId: TERMINATOR, connectorId: connectorIdentity(TOKEN_ID, c.connectorId) }, 'the deferred Ack comes first');
  t.same((await q.expect(FrameKind.Head)).meta, { status: 200, contentType: 'text/event-stream' });
  const data: Buffer[] = [];
  for (let seq = 0; ; seq++) {
    const f = await q.next();
    if (f.kind === FrameKind.End) {
      t.same(f.meta, { frames: seq, usage: { input_tokens: 3, output_tokens: 5 } }, 'End counts the Data frames sent on NATS');
      break;
    }
    t.equal(f.kind, FrameKind.Data);
    t.equal(f.id, seq, `Data frame ${seq} in sequence`);
    data.push(f.payload);
  }
  t.equal(data.length, 5, 'the 1.5 MB frame became two NATS messages');
  t.ok(Buffer.concat(data).equals(Buffer.concat([...small, big])), 'every byte, in order');
});

t.test('batches: to an ingress that reads them, the frames of one turn go as one message (the Ack with the Head); unchanged frames', async (t) => {
  const h = await Harness.start(t, { ackDeferMs: 600_000 });
  const c = await h.connector();
  const q = await h.request('bat', Buffer.from('{}'), undefined, { batches: true });
  const req = await c.frames.expect(FrameKind.Request);
  t.notOk('batches' in req.meta, 'the connector is not told');
  c.send(encodeFrame(FrameKind.Head, req.id, { status: 200, contentType: 'application/json' }));
  c.send(encodeFrame(FrameKind.Data, req.id, undefined, Buffer.from('{"a":1}')));
  c.send(encodeFrame(FrameKind.End, req.id, { frames: 1 }));
  await q.expect(FrameKind.Ack);
  await q.expect(FrameKind.Head);
  t.equal((await q.expect(FrameKind.Data)).payload.toString(), '{"a":1}');
  t.same((await q.expect(FrameKind.End)).meta, { frames: 1 });
  const messages = h.messages.get('bat')!;
  t.same(messages.flat(), [FrameKind.Ack, FrameKind.Head, FrameKind.Data, FrameKind.End], 'every frame once, in order');
  t.same(messages[0]!.slice(0, 2), [FrameKind.Ack, FrameKind.Head], 'the deferred Ack and the Head in one message');
  t.ok(messages.length < 4, `${messages.length} NATS messages for 4 frames`);

  const plain = await h.request('plain', Buffer.from('{}'));
  const r2 = await c.frames.expect(FrameKind.Request);
  c.send(encodeFrame(FrameKind.Head, r2.id, { status: 200, contentType: 'application/json' }));
  c.send(encodeFrame(FrameKind.End, r2.id, { frames: 0 }));
  for (const kind of [FrameKind.Ack, FrameKind.Head, FrameKind.End]) await plain.expect(kind);
  t.same(h.messages.get('plain'), [[FrameKind.Ack], [FrameKind.Head], [FrameKind.End]], 'an ingress that does not say so gets one frame per message');
});

t.test('Error from the connector, Cancel from the ingress, a lost tunnel, a vanished ingress, heartbeats', async (t) => {
  const h = await Harness.start(t);
  const c = await h.connector();

  const e = await h.request('e1', Buffer.from('{}'));
  const fe = await c.frames.expect(FrameKind.Request);
  c.send(encodeFrame(FrameKind.Error, fe.id, { code: 'unsupported_parameter', message: 'n > 1', param: 'n' }));
  await e.expect(FrameKind.Ack);
  t.same((await e.expect(FrameKind.Error)).meta, { code: 'unsupported_parameter', message: 'n > 1', param: 'n' }, 'the connector Error is relayed');

  const k = await h.request('k1', Buffer.from('{}'));
  const fk = await c.frames.expect(FrameKind.Request);
  await k.expect(FrameKind.Ack);
  h.intake.heartbeats(0);
  await k.expect(FrameKind.Heartbeat);
  t.pass('a silent stream gets a Heartbeat');
  await h.control('k1', encodeFrame(FrameKind.Cancel, 0, { reason: 'client gone' }));
  const cancel = await c.frames.expect(FrameKind.Cancel);
  t.equal(cancel.id, fk.id, 'the Cancel reaches the connector for that stream');
  t.equal(h.intake.size, 0, 'and the stream is over');

  const gone = await h.request('g1', Buffer.from('{}'), undefined, {}, subjects.ingressInbox('ing_gone', 'g1'));
  void gone;
  const fg = await c.frames.expect(FrameKind.Request);
  c.send(encodeFrame(FrameKind.Head, fg.id, { status: 200, contentType: 'text/plain' }));
  // No responders: the ingress may be reconnecting, so the stream waits INGRESS_AWAY_MS for it before giving up.
  await until(() => {
    h.intake.heartbeats(60_000);
    return h.intake.size === 0;
  }, 10_000, 'the stream to be cancelled');
  const stop = await c.frames.expect(FrameKind.Cancel);
  t.same([stop.id, stop.meta], [fg.id, { reason: 'ingress gone' }], 'a publish nobody receives (no responders) for a while cancels the upstream work');

  const l = await h.request('l1', Buffer.from('{}'));
  await c.frames.expect(FrameKind.Request);
  await l.expect(FrameKind.Ack);
  await c.close();
  t.same((await l.expect(FrameKind.Reject)).meta.reason, 'unavailable', 'the tunnel closing before the answer started: placed again, and with no tunnel left here a Reject lets the ingress place it elsewhere');
  await h.terminatorNc.flush();
  const probe = encodeFrame(FrameKind.Request, 0, { rid: 'l2', protocol: 'openai.chat', model: 'model-a', stream: false, bodyLength: 0, deadline: Date.now() + 60_000 });
  await t.rejects(h.ingressNc.request(subjects.request(DEP), probe, { timeout: 5_000 }), { code: '503' }, 'no tunnel left: the deployment is unsubscribed (no responders)');
});

t.test('a tunnel lost under a stream: placed again before the Head, cut after it; frames for unknown streams get one Cancel', async (t) => {
  const h = await Harness.start(t);
  const a = await h.connector();
  const b = await h.connector();
  const q = await h.request('p1', Buffer.from('body p1'));
  const first = h.connectorById((await q.expect(FrameKind.Ack)).meta.connectorId);
  const other = first === a ? b : a;
  await first.frames.expect(FrameKind.Request);
  await first.close();
  const moved = await other.frames.expect(FrameKind.Request);
  t.same([moved.meta.rid, moved.payload.toString()], ['p1', 'body p1'], 'placed again on the other tunnel, with its body');
  t.equal(h.connectorById((await q.expect(FrameKind.Ack)).meta.connectorId), other, 'the Ack goes again naming the new connector');
  other.send(encodeFrame(FrameKind.Head, moved.id, { status: 200, contentType: 'text/plain' }));
  other.send(encodeFrame(FrameKind.Data, moved.id, undefined, Buffer.from('x')));
  t.equal((await q.expect(FrameKind.Head)).meta.status, 200, 'the answer comes from the second connector');
  t.equal((await q.expect(FrameKind.Data)).payload.toString(), 'x');

  // A frame for a stream id this terminator does not have (cancelled while the frame was on the wire): Cancel, once.
  other.send(encodeFrame(FrameKind.Data, 4242, undefined, Buffer.from('for nobody')));
  other.send(encodeFrame(FrameKind.Data, 4242, undefined, Buffer.from('again')));
  const stop = await other.frames.expect(FrameKind.Cancel);
  t.same([stop.id, stop.meta], [4242, { reason: 'no such stream' }], 'the connector is told to stop that stream');
  await other.barrier();
  t.pass('one Cancel per unknown stream id');

  await other.close();
  t.equal((await q.expect(FrameKind.Error)).meta.code, 'tunnel_lost', 'after the Head, a lost tunnel cuts the stream');
});

t.test('replay: a Resume gets what the ingress misses, also just after the End; Heartbeats count the frames; unknown streams answer an Error', async (t) => {
  const h = await Harness.start(t);
  const c = await h.connector();
  const q = await h.request('rp', Buffer.from('{}'));
  const { id: sid } = await c.frames.expect(FrameKind.Request);
  await q.expect(FrameKind.Ack);
  c.send(encodeFrame(FrameKind.Head, sid, { status: 200, contentType: 'text/plain' }));
  for (const text of ['a', 'b']) c.send(encodeFrame(FrameKind.Data, sid, undefined, Buffer.from(text)));
  await q.expect(FrameKind.Head);
  await q.expect(FrameKind.Data);
  await q.expect(FrameKind.Data);
  h.intake.heartbeats(0);
  t.equal((await q.expect(FrameKind.Heartbeat)).id, 3, 'a Heartbeat carries the number of answer frames published (Head and two Data)');

  await h.control('rp', encodeFrame(FrameKind.Resume, 0, { head: false, next: 1 }));
  t.equal((await q.expect(FrameKind.Head)).meta.status, 200, 'a Resume without the Head gets the Head again');
  const again = await q.expect(FrameKind.Data);
  t.same([again.id, again.payload.toString()], [1, 'b'], 'then the Data frames from the one asked for');

  c.send(encodeFrame(FrameKind.End, sid, { frames: 2 }));
  t.same((await q.expect(FrameKind.End)).meta, { frames: 2 });
  await h.control('rp', encodeFrame(FrameKind.Resume, 0, { head: true, next: 2 }));
  t.same((await q.expect(FrameKind.End)).meta, { frames: 2 }, 'after the End, a Resume still gets the End (the log is kept a few seconds)');

  h.ingressNc.publish(subjects.terminator(TERMINATOR, 'nobody'), encodeFrame(FrameKind.Resume, 0, { head: true, next: 0 }), { reply: subjects.ingressInbox(INGRESS, 'nobody') });
  t.same((await h.queue('nobody').expect(FrameKind.Error)).meta.code, 'tunnel_lost', 'a Resume for a stream this terminator does not have: an Error, so the ingress fails at once');
});

/** The next PairHeartbeat this terminator publishes for `ingress`, decoded, and whether it ends its round. */
function nextPairHeartbeat(nc: NatsConnection, ingress: string): Promise<{ beats: StreamBeat[]; roundEnd: boolean }> {
  const sub = nc.subscribe(subjects.pairHeartbeat(ingress, TERMINATOR), { max: 1, timeout: 10_000 });
  return (async () => {
    for await (const m of sub) return { beats: decodePairHeartbeat(Buffer.from(m.data)), roundEnd: m.headers?.get(PAIR_ROUND_HEADER) === PAIR_ROUND_END };
    throw new Error('no pair heartbeat');
  })();
}

t.test('pair heartbeats: one message per ingress lists its silent streams with their frame counts; a vanished ingress is noticed through it', async (t) => {
  const h = await Harness.start(t);
  const c = await h.connector({ maxConcurrency: 8 });
  const pair = { pairHeartbeats: true };
  const sids = new Map<string, number>();
  for (const [rid, meta, reply] of [
    ['pa', pair, undefined], ['pb', pair, undefined], ['legacy', {}, undefined],
    // Says it reads them, but its reply is not this request's own inbox: Heartbeats of its own there.
    ['odd', pair, subjects.ingressInbox(INGRESS, 'odd2')],
  ] as const) {
    const q = await h.request(rid, Buffer.from('{}'), undefined, meta, reply);
    const req = await c.frames.expect(FrameKind.Request);
    t.equal(req.meta.pairHeartbeats, undefined, 'the flag stays on NATS (the connector never sees it)');
    sids.set(rid, req.id);
    await (rid === 'odd' ? h.queue('odd2') : q).expect(FrameKind.Ack);
  }
  c.send(encodeFrame(FrameKind.Head, sids.get('pa')!, { status: 200, contentType: 'text/plain' }));
  c.send(encodeFrame(FrameKind.Data, sids.get('pa')!, undefined, Buffer.from('a')));
  await h.queue('pa').expect(FrameKind.Head);
  await h.queue('pa').expect(FrameKind.Data);

  const beat = nextPairHeartbeat(h.ingressNc, INGRESS);
  await h.ingressNc.flush();
  t.equal(h.intake.pairHeartbeats(0), 1, 'one message for the ingress, however many of its streams are silent');
  const round = await beat;
  t.same(round.beats.sort((x, y) => x.rid.localeCompare(y.rid)), [{ rid: 'pa', published: 2 }, { rid: 'pb', published: 0 }], 'its streams, each with the answer frames (Head + Data) it published');
  t.ok(round.roundEnd, 'the round\'s last message is marked (the ingress counts rounds)');
  h.intake.heartbeats(0);
  t.equal((await h.queue('legacy').expect(FrameKind.Heartbeat)).id, 0, 'a stream whose ingress did not ask for pair heartbeats gets Heartbeats of its own');
  await h.queue('odd2').expect(FrameKind.Heartbeat);
  const empty = nextPairHeartbeat(h.ingressNc, INGRESS);
  await h.ingressNc.flush();
  t.equal(h.intake.pairHeartbeats(60_000), 1, 'nothing silent that long: the round still goes to the ingress');
  t.same(await empty, { beats: [], roundEnd: true }, 'empty and marked: a terminator alive that lists none of them');
  await h.terminatorNc.flush();
  await h.ingressNc.flush();
  t.same(h.messages.get('pa'), [[FrameKind.Ack], [FrameKind.Head], [FrameKind.Data]], 'and no Heartbeat frame for a stream its pair heartbeat lists');

  // An ingress that goes away while its streams are silent: only the pair heartbeat's no-responders tells.
  const awayNc = await connect({ servers: h.nats.url });
  const awayInbox = new FrameQueue('away inbox');
  awayNc.subscribe(`tokios.in.ing_away.>`, { callback: (_e, m) => m.subject.split('.').length === 4 && awayInbox.push(m.data) });
  await awayNc.flush();
  await h.request('w1', Buffer.from('{}'), undefined, { ...pair, ingressId: 'ing_away' }, subjects.ingressInbox('ing_away', 'w1'));
  const w1 = await c.frames.expect(FrameKind.Request);
  await awayInbox.expect(FrameKind.Ack);
  await awayNc.close();
  await until(() => {
    h.intake.pairHeartbeats(0);
    h.intake.heartbeats(60_000);
    return h.intake.size === 4;
  }, 10_000, 'the stream of the vanished ingress to be cancelled');
  const stop = await c.frames.expect(FrameKind.Cancel);
  t.same([stop.id, stop.meta], [w1.id, { reason: 'ingress gone' }], 'no responders to its pair heartbeat for a while cancels the upstream work');
});

t.test('flow control: Pause/Unpause reach a connector that announced them, for its stream only; an older connector gets none', async (t) => {
  const h = await Harness.start(t);
  const modern = await h.connector({ maxConcurrency: 1, features: ['pause', 'some-later-feature'] });
  const older = await h.connector({ maxConcurrency: 1 });
  const streams = new Map<ScriptedConnector, { rid: string; sid: number }>();
  for (const rid of ['fa', 'fb']) {
    const q = await h.request(rid, Buffer.from('{}'));
    const c = h.connectorById((await q.expect(FrameKind.Ack)).meta.connectorId);
    const { id: sid } = await c.frames.expect(FrameKind.Request);
    streams.set(c, { rid, sid });
    c.send(encodeFrame(FrameKind.Head, sid, { status: 200, contentType: 'text/event-stream' }));
    await q.expect(FrameKind.Head);
  }
  const m = streams.get(modern)!;
  const o = streams.get(older)!;
  await h.control(m.rid, encodeFrame(FrameKind.Pause, 0, { ms: 5_000 }));
  const pause = await modern.frames.expect(FrameKind.Pause);
  t.same([pause.id, pause.meta], [m.sid, { ms: 5_000 }], 'the Pause carries the stream id on the tunnel and the lease');
  await h.control(m.rid, encodeFrame(FrameKind.Unpause, 0));
  t.equal((await modern.frames.expect(FrameKind.Unpause)).id, m.sid, 'then the Unpause');

  await h.control(o.rid, encodeFrame(FrameKind.Pause, 0, { ms: 5_000 }));
  await h.control(o.rid, encodeFrame(FrameKind.Cancel, 0, { reason: 'test' }));
  t.equal((await older.frames.expect(FrameKind.Cancel)).id, o.sid, 'the older connector got the Cancel sent after a Pause, and no Pause (it would close the tunnel on an unknown kind)');
});

t.test('tunnel batches: announced in Welcome; a connector\'s Batch is relayed frame by frame with every check; malformed ones close the tunnel', async (t) => {
  const h = await Harness.start(t, { ackDeferMs: 600_000 });
  const c = await h.connector();
  t.same(c.welcome.features, ['batch'], 'the Welcome says the terminator reads tunnel batches');
  const q = await h.request('tb', Buffer.from('{}'), undefined, { batches: true });
  const { id: sid } = await c.frames.expect(FrameKind.Request);
  c.send(encodeBatch([
    encodeFrame(FrameKind.Head, sid, { status: 200, contentType: 'application/json' }),
    encodeFrame(FrameKind.Data, sid, undefined, Buffer.from('{"a":')),
    encodeFrame(FrameKind.Data, sid, undefined, Buffer.from('1}')),
    encodeFrame(FrameKind.End, sid, { frames: 2, usage: { input_tokens: 1, output_tokens: 2 } }),
  ], undefined, sid));
  await q.expect(FrameKind.Ack);
  await q.expect(FrameKind.Head);
  t.same([(await q.expect(FrameKind.Data)).id, (await q.expect(FrameKind.Data)).id], [0, 1], 'Data numbered on NATS');
  t.same((await q.expect(FrameKind.End)).meta, { frames: 2, usage: { input_tokens: 1, output_tokens: 2 } });
  t.same(h.messages.get('tb'), [[FrameKind.Ack, FrameKind.Head, FrameKind.Data, FrameKind.Data, FrameKind.End]], 'one tunnel message in, one NATS message out');

  // A bad frame inside a batch meets the check it meets alone: a Head outside 200-599 fails its stream, the tunnel stays.
  const q2 = await h.request('tb2', Buffer.from('{}'));
  const r2 = await c.frames.expect(FrameKind.Request);
  c.send(encodeBatch([encodeFrame(FrameKind.Head, r2.id, { status: 101, contentType: 'text/plain' } as never), encodeFrame(FrameKind.End, r2.id, { frames: 0 })], undefined, r2.id));
  await q2.expect(FrameKind.Ack);
  t.equal((await q2.expect(FrameKind.Error)).meta.code, 'protocol_error', 'an invalid Head in a batch fails its stream');
  t.equal((await c.frames.expect(FrameKind.Cancel)).id, r2.id, 'and cancels it at the connector; the tunnel stays');

  const refusals: [string, (sid: number) => Buffer][] = [
    ['a frame of another stream', (s) => encodeBatch([encodeFrame(FrameKind.Data, s, undefined, Buffer.from('x')), encodeFrame(FrameKind.Data, s + 1, undefined, Buffer.from('y'))], undefined, s)],
    ['a nested batch', (s) => encodeBatch([encodeBatch([encodeFrame(FrameKind.Data, s, undefined, Buffer.from('x'))], undefined, s)], undefined, s)],
    ['a truncated length', (s) => encodeBatch([encodeFrame(FrameKind.Data, s, undefined, Buffer.from('xyz'))], undefined, s).subarray(0, 16)],
    ['a Data frame with metadata', (s) => encodeBatch([encodeFrame(FrameKind.Head, s, { status: 200, contentType: 'a/b' }).fill(FrameKind.Data, 0, 1)], undefined, s)],
  ];
  for (const [what, batch] of refusals) {
    const b = await h.connector();
    const rid = `bad${h.connectors.length}`;
    const bq = await h.request(rid, Buffer.from('{}'));
    const f = await b.frames.expect(FrameKind.Request);
    await bq.expect(FrameKind.Ack).catch(() => undefined);
    b.send(batch(f.id));
    t.equal(await b.closed, 4003, `${what}: the tunnel is closed as for a malformed frame`);
  }
  const big = await h.connector();
  big.send(encodeBatch([encodeFrame(FrameKind.Data, 1, undefined, Buffer.alloc(3 * MB)), encodeFrame(FrameKind.Data, 1, undefined, Buffer.alloc(2 * MB))], undefined, 1));
  t.equal(await big.closed, 1009, 'a batch over the frame limit: 1009, as an oversized frame');
});
