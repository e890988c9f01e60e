import type { NatsConnection } from 'nats';
import { subjects } from '@tokios/shared/subjects';
import type { Logger } from '@tokios/shared/log';
import {
  DEFAULT_NATS_MAX_PAYLOAD, FrameKind, NATS_RELAY_SLACK_BYTES, batchBytes, chunkBytes, dataPayload, encodeBatch, encodeBodyFrames, encodeFrame,
  encodeRequestFrames, payloadRoom, setFrameId, type EndMeta, type RequestMeta, type RejectMeta, type ResumeMeta,
} from '@tokios/shared/protocol';
import { REPLAY_LOST_MESSAGE, ReplayLog } from './replay.js';
import { EndedStream } from './ended-stream.js';
import type { ErrorCode } from '@tokios/shared/errors';
import type { AckBatcher, DeferredAck } from './ack-batcher.js';
import type { TurnFlush, TurnOutput } from './turn-flush.js';
import type { TunnelRegistry } from './registry.js';
import type { Tunnel, TunnelStream } from './tunnel.js';

export interface RelayContext {
  terminatorId: string;
  nc: NatsConnection;
  registry: TunnelRegistry<Tunnel>;
  log: Logger;
  /** Holds Acks back briefly so a quick answer carries its Ack in the same NATS write (see AckBatcher). */
  acks: AckBatcher;
  /** Publishes the streams' outboxes together at the end of the event-loop turn (see TurnFlush). */
  turn: TurnFlush;
  /** Called once when the stream is over, with how it ended. */
  onDone(stream: RelayStream, result: RelayResult): void;
}

/** How a relayed request ended, as the terminator saw it (metrics label). */
export type RelayResult = 'ok' | 'error' | 'cancelled' | 'rejected';

/**
 * One request between the NATS reply inbox of an ingress and a stream on a connector's tunnel.
 * Retries placement on another local tunnel while the connector rejects (nothing started yet);
 * after the first Head it is bound to that connector for good.
 */
export class RelayStream implements TunnelStream, DeferredAck, TurnOutput {
  private tunnel: Tunnel | undefined;
  private sid = 0;
  private readonly tried = new Set<Tunnel>();
  private readonly bodyParts: Buffer[] = [];
  private bodyReceived: number;
  private acked = false;
  /** The connector the Ack named: placed again on another one before the answer, the Ack goes again naming it. */
  private ackedConnector: string | undefined;
  /** Ack not yet published (deferred until the first answer frame or the AckBatcher's timer). */
  private ackFrame: Buffer | undefined;
  private headSent = false;
  private seq = 0;
  private done = false;
  /** The Ack as published, sent again after a reconnect of this terminator's NATS connection. */
  private ackSent: Buffer | undefined;
  /** Everything published after the Ack, for an ingress that lost part of it in a NATS reconnect (Resume). */
  private readonly replay = new ReplayLog();
  lastSent = Date.now();
  readonly startedAt = this.lastSent;
  /** The connector the request was last placed on (for the request's log line). */
  connectorId: string | undefined;
  /**
   * Frames for the ingress not yet published: everything this stream sends in one event-loop turn leaves as one
   * Batch message at the end of it (an ingress that reads them says so in the Request), so a quick answer is one
   * NATS message instead of Ack, Head, Data and End each; every stream's message of the turn goes in one socket
   * write (TurnFlush).
   */
  private outbox: Uint8Array[] = [];
  private outboxBytes = 0;
  private flushQueued = false;
  /**
   * The ingress whose PairHeartbeat lists this stream while it is silent (its Request said it reads them, and the
   * reply is that ingress's own inbox); undefined: the stream gets Heartbeat frames of its own.
   */
  readonly beatIngress: string | undefined;

  constructor(
    private readonly ctx: RelayContext,
    readonly meta: RequestMeta,
    readonly deploymentId: string,
    /** Ingress inbox for this request. */
    readonly reply: string,
    /** Our subject for this request: body parts and cancels arrive here; it is also the reply of every frame we send. */
    readonly control: string,
    inlineBody: Buffer,
    /** Placed on this connector only (the request came on its own subject: a session's home), else on any. */
    private readonly pinned?: string,
  ) {
    if (inlineBody.length > 0) this.bodyParts.push(inlineBody);
    this.bodyReceived = inlineBody.length;
    const ing = meta.pairHeartbeats ? meta.ingressId : undefined;
    this.beatIngress = ing !== undefined && reply === subjects.ingressInbox(ing, meta.rid) ? ing : undefined;
  }

  get rid(): string {
    return this.meta.rid;
  }

  /**
   * Places the request on the least loaded routable tunnel (of the pinned connector, when there is one), or answers
   * Reject when there is none: for a pinned request, the ingress then places it on the deployment's subject at once.
   */
  place(rejected?: RejectMeta): void {
    const t = this.ctx.registry.pick(this.deploymentId, this.tried, this.pinned);
    if (!t) {
      const routable = this.ctx.registry.isRoutable(this.deploymentId, this.pinned);
      const reason: RejectMeta = rejected ?? {
        reason: routable ? 'busy' : 'unavailable',
        message: routable ? 'every connector here is at capacity' : 'no routable connector here',
      };
      this.publish(encodeFrame(FrameKind.Reject, 0, reason));
      this.finish('rejected');
      return;
    }
    this.tried.add(t);
    this.tunnel = t;
    this.connectorId = t.connectorId;
    this.sid = t.open(this);
    this.ctx.registry.addLoad(t.connectorId, 1);
    const { ingressId: _i, tenantId: _t, keyId: _k, batches: _b, pairHeartbeats: _p, ...forward } = this.meta;
    for (const frame of encodeRequestFrames(this.sid, forward, this.bodyParts, t.maxFrameBytes)) t.send(frame);
    if (this.acked && t.connectorId !== this.ackedConnector) {
      // The ingress learns a session's home from the Ack: it must name the connector that serves, not the one that
      // rejected. Not yet published: replaced; published: sent again (the ingress takes the newer connector).
      this.ackedConnector = t.connectorId;
      const ack = encodeFrame(FrameKind.Ack, 0, { terminatorId: this.ctx.terminatorId, connectorId: t.connectorId });
      if (this.ackFrame) this.ackFrame = ack;
      else {
        this.ackSent = ack;
        this.send(ack);
      }
    }
    if (!this.acked) {
      this.acked = true;
      this.ackedConnector = t.connectorId;
      this.ackFrame = encodeFrame(FrameKind.Ack, 0, { terminatorId: this.ctx.terminatorId, connectorId: t.connectorId });
      // The ingress waits for the Ack before it sends the rest of a large body: no deferral then.
      if (this.bodyReceived < this.meta.bodyLength) this.flushAck();
      else this.ctx.acks.add(this);
    }
  }

  /** A body part from the ingress (large requests arrive in several NATS messages). */
  onBody(part: Buffer): void {
    if (this.done) return;
    if (this.bodyReceived + part.length > this.meta.bodyLength) {
      this.fail('protocol_error', 'request body longer than announced');
      return;
    }
    this.bodyReceived += part.length;
    if (!this.headSent) this.bodyParts.push(part);
    const t = this.tunnel;
    if (t) for (const frame of encodeBodyFrames(this.sid, part, t.maxFrameBytes)) t.send(frame);
  }

  onReject(meta: RejectMeta): void {
    if (this.done || this.headSent) return;
    this.detach();
    this.place(meta);
  }

  onHead(frame: Buffer): void {
    this.headSent = true;
    this.bodyParts.length = 0;
    this.replay.head(frame);
    this.publish(frame);
  }

  /** Relays a connector Data frame; the buffer is reused in place with our sequence number. */
  onData(frame: Buffer): void {
    const room = this.room();
    if (frame.length <= room) {
      this.publishData(frame);
      return;
    }
    for (const part of chunkBytes(dataPayload(frame), payloadRoom(room))) this.publishData(encodeFrame(FrameKind.Data, 0, undefined, part));
  }

  private publishData(frame: Buffer): void {
    const seq = this.seq++;
    setFrameId(frame, seq);
    this.replay.dataFrame(seq, frame);
    this.publish(frame);
  }

  onEnd(end: EndMeta): void {
    // Our own frame count: Data frames too large for NATS were split on the way.
    const meta: EndMeta = { frames: this.seq };
    if (end.usage) meta.usage = end.usage;
    if (end.error) meta.error = end.error;
    this.publishFinal(encodeFrame(FrameKind.End, 0, meta), end.error ? 'error' : 'ok');
  }

  onError(code: string, message: string, param?: string | null): void {
    this.publishFinal(encodeFrame(FrameKind.Error, 0, param ? { code, message, param } : { code, message }), 'error');
  }

  private publishFinal(frame: Buffer, result: RelayResult): void {
    this.replay.final(frame);
    this.publish(frame);
    this.finish(result);
  }

  /**
   * The ingress lost part of the answer (a NATS reconnect on its side or ours) and says what it has: what it misses
   * is published again, from the replay log (after the end, EndedStream does it from the packed log). When the log
   * no longer holds it, the stream fails instead: a gap is never papered over.
   */
  resume(have: ResumeMeta): void {
    const frames = this.replay.missing(have);
    if (!frames) {
      this.ctx.log.warn({ rid: this.rid, next: have.next }, 'resume asked for answer bytes no longer buffered');
      if (this.done) this.send(encodeFrame(FrameKind.Error, 0, { code: 'fabric_unavailable', message: REPLAY_LOST_MESSAGE }));
      else this.fail('fabric_unavailable', REPLAY_LOST_MESSAGE);
      return;
    }
    for (const f of frames) this.send(f);
  }

  /**
   * This terminator's NATS connection came back: what it published meanwhile is lost. The Ack goes again (the
   * ingress ignores a repeated one), then a Heartbeat that says how many answer frames were published, or the final
   * frame of a stream that ended meanwhile: an ingress that misses some asks for them (Resume).
   */
  reconnected(): void {
    if (this.ackSent) this.send(this.ackSent);
    if (this.replay.finished) {
      const last = this.replay.missing({ head: true, next: this.seq });
      if (last?.length) this.send(last[last.length - 1]!);
    } else this.send(encodeFrame(FrameKind.Heartbeat, this.replay.published));
  }

  private awaySince = 0;

  /** A publish towards the ingress found no responders. */
  ingressAway(now: number): void {
    if (this.awaySince === 0) this.awaySince = now;
  }

  /** The ingress was heard from (a Resume, a Body part). */
  ingressBack(): void {
    this.awaySince = 0;
  }

  /** How long the ingress has not been taking what we publish (0: it has). */
  awayFor(now: number): number {
    return this.awaySince === 0 ? 0 : now - this.awaySince;
  }

  /** True while the stream's log may still serve a Resume. */
  get replayable(): boolean {
    return this.ackSent !== undefined;
  }

  /** What an ended, replayable stream keeps for a Resume or a reconnect (see EndedStream). */
  archive(at: number): EndedStream | undefined {
    if (!this.replayable) return undefined;
    return new EndedStream(this.rid, this.reply, this.control, this.replay.pack(this.ackSent), at);
  }

  /**
   * The tunnel went away under this stream. Before the Head nothing reached the caller (and the connector stops the
   * model when its tunnel drops), so the request is placed again: on another tunnel here, or, through a Reject, by the
   * ingress on another terminator. After it, the answer is cut.
   */
  tunnelLost(reason: string): void {
    if (this.done) return;
    if (!this.headSent) {
      this.ctx.log.info({ rid: this.rid, reason }, 'tunnel lost before the answer started; placing the request again');
      this.detach();
      this.place();
      return;
    }
    this.fail('tunnel_lost', reason);
  }

  /** The ingress asked to stop (client went away) or cannot be reached any more. */
  cancel(reason: string): void {
    if (this.done) return;
    this.tunnel?.sendControl(FrameKind.Cancel, this.sid, { reason });
    this.finish('cancelled');
  }

  /**
   * The caller stopped reading (Pause, a lease of `ms`) or drained (Unpause): passed to the connector, which stops or
   * resumes reading the model's answer for this stream only. A connector that did not announce the feature gets
   * nothing; the ingress's unsent-bytes cap still bounds that stream.
   */
  pause(ms: number): void {
    if (this.done || !this.headSent || !this.tunnel?.pausable) return;
    this.tunnel.sendControl(FrameKind.Pause, this.sid, { ms });
  }

  unpause(): void {
    if (this.done || !this.headSent || !this.tunnel?.pausable) return;
    this.tunnel.sendControl(FrameKind.Unpause, this.sid);
  }

  /** Ends the stream with an error towards the ingress (tunnel lost, protocol error). */
  fail(code: ErrorCode, message: string): void {
    if (this.done) return;
    if (code !== 'tunnel_lost') this.tunnel?.sendControl(FrameKind.Cancel, this.sid, { reason: message });
    this.onError(code, message);
  }

  /** Tells the ingress the stream is alive when nothing else was sent for `idleMs` (a stream without beatIngress). */
  heartbeat(now: number, idleMs: number): void {
    if (now - this.lastSent >= idleMs) this.publish(encodeFrame(FrameKind.Heartbeat, this.replay.published));
  }

  /**
   * Its entry in the PairHeartbeat to its ingress: the answer frames published so far, when the Ack is out and
   * nothing was sent for `idleMs`; -1 when it needs none (busy, not acked yet, over).
   */
  silentBeat(now: number, idleMs: number): number {
    if (this.done || !this.ackSent || now - this.lastSent < idleMs) return -1;
    return this.replay.published;
  }

  /** Publishes the deferred Ack, if any. */
  flushAck(): void {
    const ack = this.ackFrame;
    if (!ack) return;
    this.ackFrame = undefined;
    this.ctx.acks.delete(this);
    this.ackSent = ack;
    this.send(ack);
  }

  private publish(frame: Uint8Array): void {
    if (this.ackFrame) this.flushAck();
    this.send(frame);
  }

  /** The largest message this relay publishes: what NATS takes, less some room. */
  private room(): number {
    return (this.ctx.nc.info?.max_payload ?? DEFAULT_NATS_MAX_PAYLOAD) - NATS_RELAY_SLACK_BYTES;
  }

  private send(frame: Uint8Array): void {
    this.lastSent = Date.now();
    if (!this.meta.batches) return this.publishNow(frame);
    if (this.outbox.length > 0 && batchBytes(this.outbox.length + 1, this.outboxBytes + frame.byteLength) > this.room()) this.flushOutbox();
    this.outbox.push(frame);
    this.outboxBytes += frame.byteLength;
    if (!this.flushQueued) {
      this.flushQueued = true;
      this.ctx.turn.add(this);
    }
  }

  /** Publishes the frames waiting in the outbox, as one message (TurnFlush calls it at the end of the turn). */
  flushOutbox(): void {
    this.flushQueued = false;
    const frames = this.outbox;
    if (frames.length === 0) return;
    const bytes = this.outboxBytes;
    this.outbox = [];
    this.outboxBytes = 0;
    this.publishNow(frames.length === 1 ? frames[0]! : encodeBatch(frames, bytes));
  }

  private publishNow(message: Uint8Array): void {
    try {
      this.ctx.nc.publish(this.reply, message, { reply: this.control });
    } catch (err) {
      this.ctx.log.warn({ rid: this.rid, err: (err as Error).message }, 'publish to ingress failed');
    }
  }

  private detach(): void {
    if (!this.tunnel) return;
    this.tunnel.release(this.sid);
    this.ctx.registry.addLoad(this.tunnel.connectorId, -1);
    this.tunnel = undefined;
  }

  private finish(result: RelayResult): void {
    if (this.done) return;
    this.done = true;
    this.ackFrame = undefined;
    this.ctx.acks.delete(this);
    this.detach();
    this.ctx.onDone(this, result);
  }
}
