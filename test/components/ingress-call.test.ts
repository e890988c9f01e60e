// The ingress Call state machine on a real nats-server: the test plays the terminator (it answers Requests on
// `tokios.req.<deployment>` with hand-made frames and watches its control subject for Body parts and Cancels).
import t, { type Test } from 'tap';
import { connect, headers, type NatsConnection } from 'nats';
import { silentLogger } from '@tokios/shared/log';
import { subjects, tailToken, wildcard } from '@tokios/shared/subjects';
import { FrameKind, PAIR_ROUND_END, PAIR_ROUND_HEADER, PAUSE_LEASE_MS, decodeFrame, encodeBatch, encodeFrame, encodePairHeartbeats, type EndMeta, type HeadMeta, type RequestMeta, type StreamBeat } from '@tokios/shared/protocol';
import type { TokiosError } from '@tokios/shared/errors';
import { FabricClient, defaultIngressOptions, type Call, type IngressOptions } from '@tokios/ingress';
import { FrameQueue, NatsCluster, NatsServer, TcpGate, until } from '../support/index.js';

const MB = 1024 * 1024;

/** The terminator's part, scripted: Requests as they arrive, and what the ingress sends to each request's control subject. */
class ScriptedTerminator {
  readonly requests = new FrameQueue('requests');
  /** When set, answers each Request at once instead of queueing it. */
  auto: ((req: RequestMeta) => void) | undefined;
  private readonly control = new Map<string, FrameQueue>();

  constructor(
    readonly nc: NatsConnection,
    readonly deploymentId: string,
    readonly terminatorId: string,
  ) {}

  async subscribe(): Promise<void> {
    this.nc.subscribe(subjects.request(this.deploymentId), {
      callback: (_e, m) => {
        if (!this.auto) return this.requests.push(m.data);
        const f = decodeFrame(m.data);
        if (f.kind === FrameKind.Request) this.auto(f.meta);
      },
    });
    const prefix = subjects.terminatorPrefix(this.terminatorId);
    this.nc.subscribe(wildcard(prefix), {
      callback: (_e, m) => {
        if (m.data.length === 0) return; // a no-responders notice (the ingress was away): a terminator waits for its Resume
        this.controlOf(tailToken(m.subject, prefix)!).push(m.data);
      },
    });
    await this.nc.flush();
  }

  controlOf(rid: string): FrameQueue {
    let q = this.control.get(rid);
    if (!q) this.control.set(rid, (q = new FrameQueue(`control ${rid}`)));
    return q;
  }

  /** The next Request; its rid and ingress say where answers go. */
  async nextRequest(): Promise<RequestMeta & { payload: Buffer }> {
    const f = await this.requests.expect(FrameKind.Request);
    return { ...f.meta, payload: f.payload };
  }

  /** Sends an answer frame to the ingress inbox of `req`, as a terminator does (reply = its control subject). */
  answer(req: RequestMeta, frame: Buffer): void {
    this.nc.publish(subjects.ingressInbox(req.ingressId!, req.rid), frame, { reply: subjects.terminator(this.terminatorId, req.rid) });
  }

  /** A PairHeartbeat from this terminator (or, to test a mix-up, one claiming to be `from`) to `ingressId`. */
  pairHeartbeat(ingressId: string, beats: StreamBeat[], from = this.terminatorId): void {
    for (const m of encodePairHeartbeats(beats, 1024 * 1024)) this.nc.publish(subjects.pairHeartbeat(ingressId, from), m, { reply: subjects.pairHeartbeatReply(from, ingressId) });
  }

  /** A PairHeartbeat round as today's terminators send it: its last message marked, so the ingress counts rounds. */
  round(ingressId: string, beats: StreamBeat[]): void {
    const h = headers();
    h.set(PAIR_ROUND_HEADER, PAIR_ROUND_END);
    const reply = subjects.pairHeartbeatReply(this.terminatorId, ingressId);
    const messages = encodePairHeartbeats(beats, 1024 * 1024);
    messages.forEach((m, i) => this.nc.publish(subjects.pairHeartbeat(ingressId, this.terminatorId), m, i === messages.length - 1 ? { reply, headers: h } : { reply }));
  }

  ack(req: RequestMeta): void {
    this.answer(req, encodeFrame(FrameKind.Ack, 0, { terminatorId: this.terminatorId, connectorId: 'con_call' }));
  }

  /** Every message published before now has been delivered to this side. */
  async settle(ingress: NatsConnection): Promise<void> {
    await ingress.flush();
    await this.nc.flush();
  }
}

/** What the handlers of one call saw. */
function recorder() {
  const seen = { heads: [] as HeadMeta[], data: [] as Buffer[] };
  let settle: (r: { end: EndMeta } | { error: TokiosError }) => void = () => undefined;
  const outcome = new Promise<{ end: EndMeta } | { error: TokiosError }>((r) => (settle = r));
  const handlers = {
    onHead: (h: HeadMeta) => seen.heads.push(h),
    onData: (p: Buffer) => seen.data.push(Buffer.from(p)),
    onEnd: (end: EndMeta) => settle({ end }),
    onError: (error: TokiosError) => settle({ error }),
  };
  const failed = async (): Promise<TokiosError> => {
    const r = await outcome;
    if (!('error' in r)) throw new Error(`the call ended, expected an error`);
    return r.error;
  };
  const ended = async (): Promise<EndMeta> => {
    const r = await outcome;
    if (!('end' in r)) throw new Error(`the call failed: ${r.error.code} ${r.error.message}`);
    return r.end;
  };
  return { seen, handlers, failed, ended };
}

interface Setup {
  fabric: FabricClient;
  ingressNc: NatsConnection;
  term: ScriptedTerminator;
  call(body?: Buffer): { call: Call; rec: ReturnType<typeof recorder> };
}

let setups = 0;

/** An ingress FabricClient and a scripted terminator for a deployment of their own (setups never see each other's requests). */
async function setup(t: Test, nats: NatsServer, options: Partial<IngressOptions> = {}, subscribe = true, conns?: [NatsConnection, NatsConnection]): Promise<Setup> {
  const n = ++setups;
  const deploymentId = `dep_call_${n}`;
  const [ingressNc, termNc] = conns ?? (await Promise.all([connect({ servers: nats.url }), connect({ servers: nats.url })]));
  const fabric = new FabricClient(ingressNc, { ...defaultIngressOptions(), ...options }, silentLogger());
  fabric.start();
  const term = new ScriptedTerminator(termNc, deploymentId, `trm_call_${n}`);
  if (subscribe) await term.subscribe();
  t.teardown(async () => {
    await fabric.close();
    await Promise.all([ingressNc.close(), termNc.close()]);
  });
  let calls = 0;
  return {
    fabric, ingressNc, term,
    call: (body = Buffer.from('{"messages":[]}')) => {
      const rec = recorder();
      const call = fabric.call({ deploymentId, requestId: `req_${++calls}`, body, meta: { protocol: 'openai.chat', model: 'model-a', stream: true } }, rec.handlers);
      return { call, rec };
    },
  };
}

t.test('the Call state machine', async (t) => {
  const nats = await NatsServer.start();
  t.teardown(() => nats.stop());

  await t.test('a whole answer: Ack, body parts after it, Head, Data in sequence, End with the count', async (t) => {
    const s = await setup(t, nats);
    const body = Buffer.alloc(2 * MB + 12_345, 'b');
    const { rec } = s.call(body);
    const req = await s.term.nextRequest();
    t.equal(req.bodyLength, body.length);
    t.equal(req.payload.length, 0, 'a body over max_payload does not travel inline');
    s.term.ack(req);
    const parts: Buffer[] = [];
    for (let got = 0; got < body.length; ) {
      const f = await s.term.controlOf(req.rid).expect(FrameKind.Body);
      parts.push(f.payload);
      got += f.payload.length;
    }
    t.ok(Buffer.concat(parts).equals(body), `the body followed the Ack in ${parts.length} parts`);
    s.term.answer(req, encodeFrame(FrameKind.Head, 0, { status: 200, contentType: 'text/event-stream' }));
    s.term.answer(req, encodeFrame(FrameKind.Data, 0, undefined, Buffer.from('hello ')));
    s.term.answer(req, encodeFrame(FrameKind.Data, 1, undefined, Buffer.from('world')));
    s.term.answer(req, encodeFrame(FrameKind.End, 0, { frames: 2, usage: { input_tokens: 1, output_tokens: 2 } }));
    t.same(await rec.ended(), { frames: 2, usage: { input_tokens: 1, output_tokens: 2 } });
    t.same(rec.seen.heads, [{ status: 200, contentType: 'text/event-stream' }]);
    t.equal(Buffer.concat(rec.seen.data).toString(), 'hello world');
    t.equal(s.fabric.inFlight, 0, 'nothing left in flight');
  });

  await t.test('the Requests of one turn are published together at its end, in order; one cancelled before it never goes', async (t) => {
    const s = await setup(t, nats);
    const before = s.ingressNc.stats().outMsgs;
    const calls = [s.call(), s.call(), s.call()];
    t.equal(s.ingressNc.stats().outMsgs, before, 'nothing published during the turn');
    calls[1]!.call.cancel('caller left');
    await new Promise((r) => setImmediate(r));
    t.equal(s.ingressNc.stats().outMsgs, before + 2, 'published at the end of the turn, all but the cancelled one');
    const first = await s.term.nextRequest();
    const second = await s.term.nextRequest();
    t.same([first.requestId, second.requestId], ['req_1', 'req_3'], 'in order; the cancelled call was not sent');
    for (const req of [first, second]) {
      s.term.ack(req);
      s.term.answer(req, encodeFrame(FrameKind.Head, 0, { status: 200, contentType: 'application/json' }));
      s.term.answer(req, encodeFrame(FrameKind.End, 0, { frames: 0 }));
    }
    t.same(await calls[0]!.rec.ended(), { frames: 0 });
    t.same(await calls[2]!.rec.ended(), { frames: 0 });
    t.equal(s.fabric.inFlight, 0, 'nothing left in flight');
  });

  await t.test('a Batch (several frames in one message) is read frame by frame; a malformed one fails the call', async (t) => {
    const s = await setup(t, nats);
    const { rec } = s.call();
    const req = await s.term.nextRequest();
    t.equal(req.batches, true, 'the Request says this ingress reads batches');
    s.term.answer(req, encodeBatch([
      encodeFrame(FrameKind.Ack, 0, { terminatorId: s.term.terminatorId, connectorId: 'con_call' }),
      encodeFrame(FrameKind.Head, 0, { status: 200, contentType: 'application/json' }),
      encodeFrame(FrameKind.Data, 0, undefined, Buffer.from('{"ok":')),
      encodeFrame(FrameKind.Data, 1, undefined, Buffer.from('true}')),
      encodeFrame(FrameKind.End, 0, { frames: 2, usage: { input_tokens: 1, output_tokens: 2 } }),
    ]));
    t.same(await rec.ended(), { frames: 2, usage: { input_tokens: 1, output_tokens: 2 } });
    t.same(rec.seen.heads, [{ status: 200, contentType: 'application/json' }]);
    t.equal(Buffer.concat(rec.seen.data).toString(), '{"ok":true}');
    t.equal(s.fabric.inFlight, 0, 'nothing left in flight');

    const bad = s.call();
    const req2 = await s.term.nextRequest();
    const batch = encodeBatch([encodeFrame(FrameKind.Ack, 0, { terminatorId: s.term.terminatorId, connectorId: 'con_call' }), encodeFrame(FrameKind.Heartbeat, 0)]);
    s.term.answer(req2, batch.subarray(0, batch.length - 3)); // the last entry runs past the end
    const err = await bad.rec.failed();
    t.equal(err.code, 'protocol_error');
    t.match(err.message, /runs past the end/);
  });

  await t.test('no Ack: one retry after the ack timeout, then no_tunnel; a late Ack of an earlier attempt is cancelled', async (t) => {
    const s = await setup(t, nats, { ackTimeoutMs: 60 });
    const { call, rec } = s.call();
    const first = await s.term.nextRequest();
    const second = await s.term.nextRequest();
    t.equal(first.rid, `${call.id.replace(/-\d+$/, '')}-1`);
    t.equal(second.rid, call.id, 'the retry is a new attempt id');
    t.equal((await rec.failed()).code, 'no_tunnel');
    await s.term.settle(s.ingressNc);
    t.equal(s.term.requests.queued.length, 0, 'exactly one retry');

    // No timers here: a Reject moves the call to its next attempt, then an Ack for the first one arrives.
    const untimed = await setup(t, nats, { ackTimeoutMs: 600_000 });
    const late = untimed.call();
    const a1 = await untimed.term.nextRequest();
    untimed.term.answer(a1, encodeFrame(FrameKind.Reject, 0, { reason: 'unavailable', message: 'nothing here' }));
    const a2 = await untimed.term.nextRequest();
    untimed.term.ack(a1);
    t.same((await untimed.term.controlOf(a1.rid).expect(FrameKind.Cancel)).meta, { reason: 'caller gone' }, 'an Ack for an attempt no longer tracked is cancelled');
    untimed.term.ack(a2);
    untimed.term.answer(a2, encodeFrame(FrameKind.End, 0, { frames: 0 }));
    t.same(await late.rec.ended(), { frames: 0 }, 'the current attempt is served');
  });

  await t.test('no responders: retried within the window (interest spreads), then no_tunnel', async (t) => {
    const s = await setup(t, nats, {}, false);
    const { call, rec } = s.call();
    const err = await rec.failed();
    t.equal(err.code, 'no_tunnel');
    t.match(err.message, /No connector is online/);
    t.ok(Number(call.id.split('-').at(-1)) > 1, `retried (${call.id})`);

    // A window longer than the test: the terminator subscribes after the first retries, however slow the machine is.
    const wide = await setup(t, nats, { noRespondersWindowMs: 600_000 }, false);
    const later = wide.call();
    await until(() => Number(later.call.id.split('-').at(-1)) >= 2, 5_000, 'a retry after no responders');
    await wide.term.subscribe();
    const req = await wide.term.nextRequest();
    wide.term.ack(req);
    wide.term.answer(req, encodeFrame(FrameKind.End, 0, { frames: 0 }));
    t.same(await later.rec.ended(), { frames: 0 }, 'a terminator subscribing within the window serves it');
  });

  await t.test('Reject busy: backoff and retry, capacity after the queue timeout; other reasons: up to 8 attempts', async (t) => {
    const s = await setup(t, nats, { queueTimeoutMs: 150 });
    const reject = (req: RequestMeta, reason: 'busy' | 'unavailable'): void => s.term.answer(req, encodeFrame(FrameKind.Reject, 0, { reason, message: reason }));

    const once = s.call();
    reject(await s.term.nextRequest(), 'busy');
    const again = await s.term.nextRequest();
    s.term.ack(again);
    s.term.answer(again, encodeFrame(FrameKind.End, 0, { frames: 0 }));
    await once.rec.ended();
    t.pass('served by the attempt after a busy Reject');

    let attempts = 0;
    s.term.auto = (req) => {
      attempts++;
      reject(req, 'busy');
    };
    const err = await s.call().rec.failed();
    t.equal(err.code, 'capacity');
    t.ok(attempts > 1, `busy is retried until the queue timeout (${attempts} attempts)`);

    const s2 = await setup(t, nats, { queueTimeoutMs: 60_000 });
    const gone = s2.call();
    for (let i = 1; i <= 8; i++) {
      const req = await s2.term.nextRequest();
      t.equal(req.rid.split('-').at(-1), String(i));
      s2.term.answer(req, encodeFrame(FrameKind.Reject, 0, { reason: 'unavailable', message: 'nothing here' }));
    }
    const e2 = await gone.rec.failed();
    t.equal(e2.code, 'no_tunnel');
    t.match(e2.message, /unavailable/);
    await s2.term.settle(s2.ingressNc);
    t.equal(s2.term.requests.queued.length, 0, 'no ninth attempt');
  });

  await t.test('a gap in the Data sequence asks for a replay (Resume) and picks up; an unfilled gap or a wrong End count fails', async (t) => {
    const s = await setup(t, nats);
    const head = encodeFrame(FrameKind.Head, 0, { status: 200, contentType: 'text/plain' });
    const data = (seq: number, text: string): Buffer => encodeFrame(FrameKind.Data, seq, undefined, Buffer.from(text));
    const gap = s.call();
    const r1 = await s.term.nextRequest();
    s.term.ack(r1);
    s.term.answer(r1, head);
    s.term.answer(r1, data(0, 'a'));
    s.term.answer(r1, data(2, 'c'));
    t.same((await s.term.controlOf(r1.rid).expect(FrameKind.Resume)).meta, { head: true, next: 1 }, 'the ingress says what it has');
    // The terminator's replay: what was asked for, then the end; frames it had already are ignored.
    for (const f of [data(1, 'b'), data(2, 'c'), data(0, 'a'), encodeFrame(FrameKind.End, 0, { frames: 3 })]) s.term.answer(r1, f);
    t.same(await gap.rec.ended(), { frames: 3 });
    t.equal(Buffer.concat(gap.rec.seen.data).toString(), 'abc', 'every byte once, in order');

    const heartbeat = s.call();
    const r2 = await s.term.nextRequest();
    s.term.ack(r2);
    s.term.answer(r2, encodeFrame(FrameKind.Heartbeat, 2));
    t.same((await s.term.controlOf(r2.rid).expect(FrameKind.Resume)).meta, { head: false, next: 0 }, 'a Heartbeat counting more answer frames than arrived asks for them');
    for (const f of [head, data(0, 'x'), encodeFrame(FrameKind.End, 0, { frames: 1 })]) s.term.answer(r2, f);
    t.same(await heartbeat.rec.ended(), { frames: 1 });

    const early = s.call();
    const r3 = await s.term.nextRequest();
    s.term.ack(r3);
    s.term.answer(r3, data(0, 'a'));
    s.term.answer(r3, encodeFrame(FrameKind.End, 0, { frames: 2 }));
    t.same((await s.term.controlOf(r3.rid).expect(FrameKind.Resume)).meta, { head: false, next: 1 }, 'an End counting more frames than arrived asks for the rest');
    s.term.answer(r3, encodeFrame(FrameKind.Error, 0, { code: 'tunnel_lost', message: 'the terminator no longer has this stream' }));
    t.equal((await early.rec.failed()).code, 'tunnel_lost', 'a terminator that cannot replay fails the call');

    const long = s.call();
    const r4 = await s.term.nextRequest();
    s.term.ack(r4);
    for (const f of [data(0, 'a'), data(1, 'b'), encodeFrame(FrameKind.End, 0, { frames: 1 })]) s.term.answer(r4, f);
    t.match((await long.rec.failed()).message, /ended after 2 of 1 frames/, 'an End counting fewer frames than arrived is a protocol error');
    await s.term.controlOf(r4.rid).expect(FrameKind.Cancel);

    const quick = await setup(t, nats, { stallTimeoutMs: 150 });
    const lost = quick.call();
    const r5 = await quick.term.nextRequest();
    quick.term.ack(r5);
    for (const f of [head, data(0, 'a'), data(2, 'c')]) quick.term.answer(r5, f);
    await quick.term.controlOf(r5.rid).expect(FrameKind.Resume);
    const e5 = await lost.rec.failed();
    t.equal(e5.code, 'protocol_error', 'a gap nobody fills fails the call (within the stall timeout)');
    t.match(e5.message, /frame 2 arrived, expected 1/);
    t.same((await quick.term.controlOf(r5.rid).expect(FrameKind.Cancel)).meta, { reason: 'protocol_error' }, 'and cancels the stream');
  });

  await t.test('Error frames keep code and param (unknown codes become upstream_error); cancel and stall publish Cancel', async (t) => {
    const s = await setup(t, nats);
    const bad = s.call();
    const r1 = await s.term.nextRequest();
    s.term.ack(r1);
    s.term.answer(r1, encodeFrame(FrameKind.Error, 0, { code: 'unsupported_parameter', message: 'n > 1', param: 'n' }));
    const e1 = await bad.rec.failed();
    t.same([e1.code, e1.message, e1.param], ['unsupported_parameter', 'n > 1', 'n']);
    const odd = s.call();
    const r2 = await s.term.nextRequest();
    s.term.answer(r2, encodeFrame(FrameKind.Error, 0, { code: 'made_up', message: 'x' }));
    t.equal((await odd.rec.failed()).code, 'upstream_error');

    const left = s.call();
    const r3 = await s.term.nextRequest();
    s.term.ack(r3);
    await until(() => left.call.terminatorId === s.term.terminatorId, 5_000, 'the Ack to be seen');
    left.call.cancel('client left');
    t.same((await s.term.controlOf(r3.rid).expect(FrameKind.Cancel)).meta, { reason: 'client left' }, 'a caller leaving cancels at the terminator that acked');

    const quick = await setup(t, nats, { stallTimeoutMs: 100 });
    const silent = quick.call();
    const r4 = await quick.term.nextRequest();
    quick.term.ack(r4);
    t.equal((await silent.rec.failed()).code, 'tunnel_lost', 'silence after the Ack is a lost tunnel');
    t.same((await quick.term.controlOf(r4.rid).expect(FrameKind.Cancel)).meta, { reason: 'tunnel_lost' });
  });

  await t.test('a PairHeartbeat keeps the silent streams it lists alive (those its terminator acked), asks for missed frames, cancels forgotten ones of this ingress', async (t) => {
    const s = await setup(t, nats, { stallTimeoutMs: 600 });
    const listed = s.call();
    const unlisted = s.call();
    const [r1, r2] = [await s.term.nextRequest(), await s.term.nextRequest()];
    t.equal(r1.pairHeartbeats, true, 'the Request says this ingress reads pair heartbeats');
    s.term.ack(r1);
    s.term.ack(r2);
    await until(() => listed.call.terminatorId !== undefined && unlisted.call.terminatorId !== undefined, 5_000, 'both Acks to be seen');
    // Until the unlisted stream stalls (the stall timeout has passed for both), the listed one is named every 50 ms; the
    // unlisted one only by a terminator that did not ack it, which keeps nothing alive.
    const beating = setInterval(() => {
      s.term.pairHeartbeat(s.fabric.id, [{ rid: r1.rid, published: 0 }]);
      s.term.pairHeartbeat(s.fabric.id, [{ rid: r2.rid, published: 0 }], 'trm_someone_else');
    }, 50);
    t.teardown(() => clearInterval(beating));
    t.equal((await unlisted.rec.failed()).code, 'tunnel_lost', 'a stream its pair heartbeat does not list stalls');
    t.equal(listed.call.id, r1.rid);
    t.equal(s.fabric.inFlight, 1, 'the listed one is alive past the stall timeout');
    clearInterval(beating);

    s.term.pairHeartbeat(s.fabric.id, [{ rid: r1.rid, published: 2 }]);
    t.same((await s.term.controlOf(r1.rid).expect(FrameKind.Resume)).meta, { head: false, next: 0 }, 'an entry counting more answer frames than arrived asks for them');
    for (const f of [encodeFrame(FrameKind.Head, 0, { status: 200, contentType: 'text/plain' }), encodeFrame(FrameKind.Data, 0, undefined, Buffer.from('x')), encodeFrame(FrameKind.End, 0, { frames: 1 })]) s.term.answer(r1, f);
    t.same(await listed.rec.ended(), { frames: 1 });

    // Malformed: refused whole, nothing taken from it; then rids this ingress no longer tracks.
    const bad = encodePairHeartbeats([{ rid: r1.rid, published: 0 }], 1024)[0]!;
    bad.writeUInt32BE(5, 1);
    s.ingressNc.publish(subjects.pairHeartbeat(s.fabric.id, s.term.terminatorId), bad);
    s.term.pairHeartbeat(s.fabric.id, [{ rid: r1.rid, published: 1 }, { rid: 'ing_someone_else_1-1', published: 0 }]);
    t.same((await s.term.controlOf(r1.rid).expect(FrameKind.Cancel)).meta, { reason: 'caller gone' }, 'a forgotten stream of this ingress: Cancel to the terminator that lists it');
    await s.term.settle(s.ingressNc);
    t.equal(s.term.controlOf('ing_someone_else_1-1').queued.length, 0, 'another ingress\'s rid: nothing (an ingress cancels only what it asked for)');
  });

  await t.test('marked rounds: a stream missing from its terminator\'s rounds stalls, a terminator that sends nothing stalls its streams', async (t) => {
    const s = await setup(t, nats, { stallTimeoutMs: 400 });
    const listed = s.call();
    const dropped = s.call();
    const [r1, r2] = [await s.term.nextRequest(), await s.term.nextRequest()];
    s.term.ack(r1);
    s.term.ack(r2);
    await until(() => listed.call.terminatorId !== undefined && dropped.call.terminatorId !== undefined, 5_000, 'both Acks to be seen');
    // The terminator lists one of them in every round and has lost the other (it is in none).
    const beating = setInterval(() => s.term.round(s.fabric.id, [{ rid: r1.rid, published: 0 }]), 50);
    t.teardown(() => clearInterval(beating));
    t.equal((await dropped.rec.failed()).code, 'tunnel_lost', 'missing from its terminator\'s rounds: stalled while the terminator lives');
    t.equal(s.fabric.inFlight, 1, 'the listed one is alive');
    clearInterval(beating);
    t.equal((await listed.rec.failed()).code, 'tunnel_lost', 'nothing more from its terminator: stalled after the stall timeout');
  });

  await t.test('a lagging reader (its event loop behind its terminator\'s frames) fails no stream those frames show alive', async (t) => {
    /**
     * One stream (`slow`) is silent and listed in its terminator's round; a busy one (`busy`) then gets a long run of
     * Data frames whose handler takes 2 ms each, so the reader reads that run over ~500 ms, past the stall timeout.
     * The stall check runs while the reader is still behind (from the last frame's handler, as the sweep would at the
     * end of that read): `slow` was last heard of before the run, but its terminator's frames keep coming.
     */
    const lagging = async (marked: boolean): Promise<{ aliveWhenJudged: boolean; s: Setup; slow: ReturnType<Setup['call']>; rs: RequestMeta }> => {
      const s = await setup(t, nats, { stallTimeoutMs: 300 });
      const slow = s.call();
      const busy = s.call();
      const [rs, rb] = [await s.term.nextRequest(), await s.term.nextRequest()];
      s.term.ack(rs);
      s.term.ack(rb);
      await until(() => slow.call.terminatorId !== undefined && busy.call.terminatorId !== undefined, 5_000, 'both Acks to be seen');
      const RUN = 250;
      let taken = 0;
      let aliveWhenJudged = false;
      busy.rec.handlers.onData = () => {
        const until = performance.now() + 2;
        while (performance.now() < until); // the reader's own work, one frame at a time
        if (++taken === RUN) {
          slow.call.checkTimers(Date.now());
          aliveWhenJudged = s.fabric.inFlight === 2;
        }
        return taken;
      };
      const beat = [{ rid: rs.rid, published: 0 }];
      if (marked) s.term.round(s.fabric.id, beat);
      else s.term.pairHeartbeat(s.fabric.id, beat);
      s.term.answer(rb, encodeFrame(FrameKind.Head, 0, { status: 200, contentType: 'text/plain' }));
      for (let i = 0; i < RUN; i++) s.term.answer(rb, encodeFrame(FrameKind.Data, i, undefined, Buffer.from('x')));
      s.term.answer(rb, encodeFrame(FrameKind.End, 0, { frames: RUN }));
      t.same(await busy.rec.ended(), { frames: RUN }, 'the busy stream was read whole');
      return { aliveWhenJudged, s, slow, rs };
    };

    const today = await lagging(true);
    t.ok(today.aliveWhenJudged, 'judged by its terminator\'s rounds and frames: the silent stream is alive');
    today.s.term.answer(today.rs, encodeFrame(FrameKind.End, 0, { frames: 0 }));
    t.same(await today.slow.rec.ended(), { frames: 0 }, 'and ends well');

    const older = await lagging(false);
    t.notOk(older.aliveWhenJudged, 'a terminator that marks no rounds: the per-stream wall-clock check fails it (what this replaces)');
    t.equal((await older.slow.rec.failed()).code, 'tunnel_lost');
  });

  await t.test('our own NATS link running behind (deliveries to this ingress held) fails no stream; a terminator quiet on a link that answers PINGs still does', async (t) => {
    const gate = await TcpGate.start(nats.port);
    t.teardown(() => gate.close());
    const [ingressNc, termNc] = await Promise.all([connect({ servers: gate.url }), connect({ servers: nats.url })]);
    const s = await setup(t, nats, { stallTimeoutMs: 300 }, true, [ingressNc, termNc]);
    const live = s.call();
    const r = await s.term.nextRequest();
    s.term.ack(r);
    await until(() => live.call.terminatorId !== undefined, 5_000, 'the Ack');
    let rounds = 0;
    const beating = setInterval(() => {
      s.term.round(s.fabric.id, [{ rid: r.rid, published: 0 }]);
      rounds++;
    }, 50);
    t.teardown(() => clearInterval(beating));
    await until(() => rounds >= 2, 5_000, 'rounds to flow');
    gate.hold('down'); // the server's deliveries to the ingress (rounds, PONGs) wait in the network
    const heldFrom = rounds;
    await until(() => rounds - heldFrom >= 20, 10_000, 'a second of rounds sent while held'); // ~3 stall timeouts
    t.equal(s.fabric.inFlight, 1, 'alive while its terminator\'s rounds are held back, past the stall timeout: the link has not confirmed any silence');
    gate.release('down');
    await until(() => (s.fabric.watches.get(live.call.terminatorId!)?.rounds ?? 0) >= heldFrom + 20, 5_000, 'the held rounds to be read');
    t.equal(s.fabric.inFlight, 1, 'and alive once they are read');
    clearInterval(beating);
    t.equal((await live.rec.failed()).code, 'tunnel_lost', 'the terminator quiet, the link answering PINGs: stalled after the stall timeout');
  });

  await t.test('frames for a request no longer tracked get a Cancel to their sender; End, and reply subjects of other requests, get none', async (t) => {
    const s = await setup(t, nats);
    const tid = s.term.terminatorId;
    const ghost = (rid: string, frame: Buffer, replyRid = rid): void =>
      s.ingressNc.publish(subjects.ingressInbox(s.fabric.id, rid), frame, { reply: subjects.terminator(tid, replyRid) });
    // These must not be answered: the stream is over, or the reply subject is not this request's.
    ghost('req_over-1', encodeFrame(FrameKind.End, 0, { frames: 0 }));
    ghost('req_other-1', encodeFrame(FrameKind.Data, 0, undefined, Buffer.from('x')), 'req_someone_else-1');
    s.ingressNc.publish(subjects.ingressInbox(s.fabric.id, 'req_badreply-1'), encodeFrame(FrameKind.Heartbeat, 0), { reply: 'tokios.in.elsewhere.req_badreply-1' });
    // A generation that went on for nobody (the first Cancel was lost): its next Data frame or Heartbeat is answered.
    ghost('req_data-1', encodeFrame(FrameKind.Data, 7, undefined, Buffer.from('late')));
    ghost('req_beat-1', encodeFrame(FrameKind.Heartbeat, 0));
    t.same((await s.term.controlOf('req_data-1').expect(FrameKind.Cancel)).meta, { reason: 'caller gone' }, 'a Data frame of a forgotten request: Cancel');
    t.same((await s.term.controlOf('req_beat-1').expect(FrameKind.Cancel)).meta, { reason: 'caller gone' }, 'a Heartbeat of a forgotten request: Cancel');
    await s.term.settle(s.ingressNc);
    for (const rid of ['req_over-1', 'req_other-1', 'req_someone_else-1', 'req_badreply-1']) t.equal(s.term.controlOf(rid).queued.length, 0, `nothing sent for ${rid}`);
  });
});

/**
 * Two routed nodes: the ingress on n0 (which the test kills), the terminator on n1 (stays up), so only the ingress
 * reconnects. Ack and stall timeouts far above the reconnect, so a slow machine fails nothing held across it.
 * `killIngressNode` resolves at the disconnect as nats.js reports it: the reconnect to n1 can follow too fast for
 * polling to see the gap, and what a test publishes right after must fall inside it.
 */
async function reconnecting(t: Test): Promise<{ s: Setup; killIngressNode: () => Promise<void> }> {
  const cluster = await NatsCluster.start(2);
  t.teardown(() => cluster.stop());
  const [n0, n1] = cluster.nodes as [NatsServer, NatsServer];
  const ingressNc = await connect({ servers: [n0.url, n1.url], noRandomize: true, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  const termNc = await connect({ servers: n1.url });
  const s = await setup(t, n0, { ackTimeoutMs: 30_000, stallTimeoutMs: 30_000 }, true, [ingressNc, termNc]);
  const killIngressNode = async (): Promise<void> => {
    const disconnected = (async () => {
      for await (const st of ingressNc.status()) if (st.type === 'disconnect') return;
    })();
    await n0.kill('SIGKILL');
    await disconnected;
  };
  return { s, killIngressNode };
}

t.test('across a NATS reconnect of the ingress: a stream resumes, a new call is held, a Cancel is published again', async (t) => {
  const { s, killIngressNode } = await reconnecting(t);
  const data = (seq: number, text: string): Buffer => encodeFrame(FrameKind.Data, seq, undefined, Buffer.from(text));

  const streaming = s.call();
  const cancelled = s.call();
  // Routes carry interest asynchronously: a first Request may find no responders on n0 and is retried.
  const reqs = [await s.term.nextRequest(), await s.term.nextRequest()];
  const r1 = reqs.find((r) => r.rid === streaming.call.id)!;
  const r2 = reqs.find((r) => r.rid === cancelled.call.id)!;
  s.term.ack(r1);
  s.term.ack(r2);
  s.term.answer(r1, encodeFrame(FrameKind.Head, 0, { status: 200, contentType: 'text/plain' }));
  s.term.answer(r1, data(0, 'before '));
  await until(() => streaming.rec.seen.data.length === 1 && cancelled.call.terminatorId !== undefined, 10_000, 'the first answer frame and both Acks across the route');

  await killIngressNode();
  s.term.answer(r1, data(1, 'lost ')); // published while the ingress is away: nobody receives it
  cancelled.call.cancel('client left'); // published into a buffer nats.js discards on reconnect
  const held = s.call(); // no connection: held, not failed

  t.same((await s.term.controlOf(r1.rid).expect(FrameKind.Resume, 15_000)).meta, { head: true, next: 1 }, 'after the reconnect the stream asks for what it missed');
  for (const f of [data(1, 'lost '), data(2, 'after'), encodeFrame(FrameKind.End, 0, { frames: 3 })]) s.term.answer(r1, f);
  t.same(await streaming.rec.ended(), { frames: 3 }, 'the stream completed');
  t.equal(Buffer.concat(streaming.rec.seen.data).toString(), 'before lost after', 'every byte, once, in order');

  t.same((await s.term.controlOf(r2.rid).expect(FrameKind.Cancel, 15_000)).meta, { reason: 'client left' }, 'the Cancel lost in the outage was published again');

  const r3 = await s.term.nextRequest();
  t.equal(r3.rid, held.call.id, 'the held call was published after the reconnect');
  s.term.ack(r3);
  s.term.answer(r3, encodeFrame(FrameKind.End, 0, { frames: 0 }));
  t.same(await held.rec.ended(), { frames: 0 }, 'and served');
});

t.test('flow control: Pause is renewed while the caller does not read; an Unpause lost in a NATS reconnect is sent again', async (t) => {
  const { s, killIngressNode } = await reconnecting(t);
  const { call } = s.call();
  const req = await s.term.nextRequest();
  s.term.ack(req);
  s.term.answer(req, encodeFrame(FrameKind.Head, 0, { status: 200, contentType: 'text/event-stream' }));
  await until(() => call.terminatorId !== undefined, 10_000, 'the Ack across the route');
  const control = s.term.controlOf(req.rid);
  /** The next frame on the control subject not of the kinds skipped (Pause renewals come every second while paused). */
  const nextBut = async (...skip: number[]): Promise<number> => {
    for (;;) {
      const f = await control.next(15_000);
      if (!skip.includes(f.kind)) return f.kind;
    }
  };

  call.pause();
  t.same((await control.expect(FrameKind.Pause)).meta, { ms: PAUSE_LEASE_MS }, 'the Pause carries its lease');
  t.same((await control.expect(FrameKind.Pause, 15_000)).meta, { ms: PAUSE_LEASE_MS }, 'and is renewed while the caller still does not read');

  await killIngressNode();
  call.unpause(); // published while disconnected: nats.js may drop it (or, at times, deliver it after the reconnect)
  // What was published before the reconnect (if delivered at all) comes first; what the reconnect sends follows.
  t.equal(await nextBut(FrameKind.Pause, FrameKind.Unpause), FrameKind.Resume, 'after the reconnect the stream asks for what it missed');
  t.equal(await nextBut(FrameKind.Pause), FrameKind.Unpause, 'and sends the Unpause of the outage again');
  call.cancel('test over');
  t.equal((await control.next(15_000)).kind, FrameKind.Cancel, 'no renewals after the Unpause');
});

t.test('a NATS outage longer than the Ack timeout fails the calls held across it', async (t) => {
  const nats = await NatsServer.start();
  t.teardown(() => nats.stop());
  const ingressNc = await connect({ servers: nats.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  const termNc = await connect({ servers: nats.url });
  const s = await setup(t, nats, { ackTimeoutMs: 100 }, true, [ingressNc, termNc]);
  const inFlight = s.call();
  const r1 = await s.term.nextRequest();
  s.term.ack(r1);
  await until(() => inFlight.call.terminatorId !== undefined, 10_000, 'the Ack');
  await nats.kill('SIGKILL');
  await until(() => !s.fabric.connected, 10_000, 'the ingress to notice the disconnect');
  const held = s.call();
  for (const c of [inFlight, held]) t.equal((await c.rec.failed()).code, 'fabric_unavailable', 'failed once the outage outlasted the Ack timeout');
});
