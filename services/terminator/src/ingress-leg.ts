import type { NatsConnection } from 'nats';
import { isIngressInbox } from '@tokios/shared/subjects';
import type { Logger } from '@tokios/shared/log';
import {
  DEFAULT_NATS_MAX_PAYLOAD, FrameKind, NATS_RELAY_SLACK_BYTES, batchBytes, chunkBytes, dataPayload, encodeBatch, encodeFrame, encodeWithJson, endMetaJson, metaBytes,
  payloadRoom, setFrameId, type EndMeta, type RequestMeta, type ResumeMeta,
} from '@tokios/shared/protocol';
import type { ErrorCode } from '@tokios/shared/errors';
import { REPLAY_LOST_MESSAGE, ReplayLog } from './replay.js';
import type { EndedArchive } from './ended-archive.js';
import type { AckBatcher, DeferredAck } from './ack-batcher.js';
import type { TurnFlush, TurnOutput } from './turn-flush.js';
import type { AckFrames } from './ack-frames.js';

/** What the ingress side of every stream of an intake shares. */
export interface IngressLegContext {
  nc: NatsConnection;
  log: Logger;
  /** Holds Acks back briefly so a quick answer carries its Ack in the same NATS write (see AckBatcher). */
  acks: AckBatcher;
  /** The Ack naming each connector, encoded once. */
  ackFrames: AckFrames;
  /** Publishes the streams' outboxes together at the end of the event-loop turn (see TurnFlush). */
  turn: TurnFlush;
}

/**
 * A stream's side towards the ingress, over NATS: the Ack (deferred), the answer frames (our own sequence numbers,
 * batched per turn), the replay log behind Resume and reconnects, the ingress's liveness and the stream's
 * heartbeats. RelayStream adds the connector side; one object per request either way.
 */
export abstract class IngressLeg implements DeferredAck, TurnOutput {
  protected done = false;
  /** Data frames published (our numbering: frames too large for NATS are split). */
  protected seq = 0;
  /** Ack not yet published (deferred until the first answer frame or the AckBatcher's timer). */
  private ackFrame: Buffer | undefined;
  /** The connector the Ack named: placed again on another one before the answer, the Ack goes again naming it. */
  private ackedConnector: string | undefined;
  /** The Ack as published, sent again after a reconnect of this terminator's NATS connection. */
  private ackSent: Buffer | undefined;
  /** Everything published after the Ack, for an ingress that lost part of it in a NATS reconnect (Resume). */
  private readonly replay = new ReplayLog();
  lastSent = Date.now();
  readonly startedAt = this.lastSent;
  /**
   * Frames for the ingress not yet published: everything this stream sends in one event-loop turn leaves as one
   * Batch message at the end of it (an ingress that reads them says so in the Request), so a quick answer is one
   * NATS message instead of Ack, Head, Data and End each; every stream's message of the turn goes in one socket
   * write (TurnFlush).
   */
  private outbox: Uint8Array[] | undefined;
  private outboxBytes = 0;
  /** The outbox as the archive wrote it, one Batch: set when the outbox is the whole log of a stream that ended. */
  private outboxBatch: Buffer | undefined;
  private flushQueued = false;
  private awaySince = 0;
  /**
   * The ingress whose PairHeartbeat lists this stream while it is silent (its Request said it reads them, and the
   * reply is that ingress's own inbox); undefined: the stream gets Heartbeat frames of its own.
   */
  readonly beatIngress: string | undefined;

  constructor(
    protected readonly ctx: IngressLegContext,
    readonly meta: RequestMeta,
    /** Ingress inbox for this request. */
    readonly reply: string,
    /** Our subject for this request: body parts and cancels arrive here; it is also the reply of every frame we send. */
    readonly control: string,
  ) {
    const ing = meta.pairHeartbeats ? meta.ingressId : undefined;
    this.beatIngress = ing !== undefined && isIngressInbox(reply, ing, meta.rid) ? ing : undefined;
  }

  get rid(): string {
    return this.meta.rid;
  }

  /** Ends the stream with an error towards the ingress (and a Cancel towards the connector). */
  abstract fail(code: ErrorCode, message: string): void;

  /**
   * The Ack naming `connectorId`, the connector the request is now placed on. The first one is deferred (`now`: the
   * ingress waits for it before it sends the rest of a large body); placed again before the answer, the ingress must
   * learn the connector that serves, not the one that rejected: not yet published, the Ack is replaced; published, it
   * goes again (the ingress takes the newer connector).
   */
  protected ack(connectorId: string, now: boolean): void {
    if (this.ackedConnector === connectorId) return;
    const first = this.ackedConnector === undefined;
    this.ackedConnector = connectorId;
    const ack = this.ctx.ackFrames.get(connectorId);
    if (!first) {
      if (this.ackFrame) this.ackFrame = ack;
      else {
        this.ackSent = ack;
        this.send(ack);
      }
      return;
    }
    this.ackFrame = ack;
    if (now) this.flushAck();
    else this.ctx.acks.add(this);
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

  /** The stream is over: an Ack still waiting is not sent (its answer, if any, went with it). */
  protected dropAck(): void {
    this.ackFrame = undefined;
    this.ctx.acks.delete(this);
  }

  /** The connector's Head, relayed as is. */
  protected publishHead(frame: Buffer): void {
    this.replay.head(frame);
    this.publish(frame);
  }

  /** A connector Data frame: the buffer is reused in place with our sequence number, split when NATS cannot take it. */
  protected publishData(frame: Buffer): void {
    const room = this.room();
    if (frame.length <= room) {
      this.publishNumbered(frame);
      return;
    }
    for (const part of chunkBytes(dataPayload(frame), payloadRoom(room))) this.publishNumbered(encodeFrame(FrameKind.Data, 0, undefined, part));
  }

  private publishNumbered(frame: Buffer): void {
    const seq = this.seq++;
    setFrameId(frame, seq);
    this.replay.dataFrame(seq, frame);
    this.publish(frame);
  }

  /**
   * The End, with our own frame count (Data frames too large for NATS were split on the way). When the connector's
   * count is ours (nothing was split), its End (`received`, metadata validated) is relayed in place like its Head,
   * with id 0 as on NATS: not encoded again, per request.
   */
  protected publishEnd(end: EndMeta, received: Buffer): void {
    if (end.frames === this.seq) {
      setFrameId(received, 0);
      this.publishFinal(received);
      return;
    }
    const meta: EndMeta = { frames: this.seq };
    if (end.usage) meta.usage = end.usage;
    if (end.error) meta.error = end.error;
    const json = endMetaJson(meta);
    this.publishFinal(encodeWithJson(FrameKind.End, 0, json, metaBytes(FrameKind.End, json)));
  }

  protected publishError(code: string, message: string, param?: string | null): void {
    this.publishFinal(encodeFrame(FrameKind.Error, 0, param ? { code, message, param } : { code, message }));
  }

  private publishFinal(frame: Buffer): void {
    this.replay.final(frame);
    this.publish(frame);
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

  /** Keeps what an ended, replayable stream needs for a Resume or a reconnect in `archive` (read back as an EndedStream). */
  archive(archive: EndedArchive, at: number): void {
    if (!this.replayable) return;
    const parts = this.replay.parts(this.ackSent);
    // A quick answer ends in the turn its Ack goes: the outbox is then its whole log, which the archive writes as a
    // Batch anyway; that is what gets published (not a copy of the same bytes, per request).
    const whole = this.outboxIsLog(parts.frames);
    const batch = archive.add(this.rid, this.reply, this.control, at, parts, whole);
    if (whole) this.outboxBatch = batch;
  }

  /** Whether the outbox holds these frames, in this order (two at least: a lone frame is published as it is). */
  private outboxIsLog(frames: readonly Uint8Array[]): boolean {
    const out = this.outbox;
    if (!out || out.length < 2 || out.length !== frames.length) return false;
    for (let i = 0; i < out.length; i++) if (out[i] !== frames[i]) return false;
    return true;
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

  /** A frame for the ingress, after the Ack if that still waits. */
  protected publish(frame: Uint8Array): void {
    if (this.ackFrame) this.flushAck();
    this.send(frame);
  }

  /** The largest message this relay publishes: what NATS takes, less some room. */
  private room(): number {
    return (this.ctx.nc.info?.max_payload ?? DEFAULT_NATS_MAX_PAYLOAD) - NATS_RELAY_SLACK_BYTES;
  }

  protected send(frame: Uint8Array): void {
    // lastSent is set once, when the turn's frames are published (flushOutbox): a quick answer is four frames in one
    // turn, and a clock read per frame is a call into C++ each. Timers (heartbeat, silentBeat) never run between a
    // send and the end of its turn, so they see the same time either way.
    if (!this.meta.batches) this.publishNow(frame);
    else {
      const out = this.outbox;
      if (out && batchBytes(out.length + 1, this.outboxBytes + frame.byteLength) > this.room()) this.publishOutbox();
      this.outboxBatch = undefined;
      // Made for the turn, dropped when published: an empty one kept until a slow stream's next token would be
      // one object per token outliving the scavenges in between.
      (this.outbox ??= []).push(frame);
      this.outboxBytes += frame.byteLength;
    }
    // Also without batches: the turn's end settles the replay log (ReplayLog.settle).
    if (!this.flushQueued) {
      this.flushQueued = true;
      this.ctx.turn.add(this);
    }
  }

  /**
   * The end of an event-loop turn in which this stream sent something (TurnFlush): the outbox is published as one
   * message, and a stream still live copies the turn's frames into its replay log's own buffer (the views they came
   * in die young; a stream that ended was archived already).
   */
  flushOutbox(): void {
    this.flushQueued = false;
    this.lastSent = Date.now();
    this.publishOutbox();
    if (!this.done) this.replay.settle();
  }

  /** Publishes the frames waiting in the outbox, as one message. */
  private publishOutbox(): void {
    const frames = this.outbox;
    if (!frames || frames.length === 0) return;
    const bytes = this.outboxBytes;
    const batch = this.outboxBatch;
    this.outbox = undefined;
    this.outboxBytes = 0;
    this.outboxBatch = undefined;
    this.publishNow(frames.length === 1 ? frames[0]! : (batch ?? encodeBatch(frames, bytes)));
  }

  private publishNow(message: Uint8Array): void {
    try {
      this.ctx.nc.publish(this.reply, message, { reply: this.control });
    } catch (err) {
      this.ctx.log.warn({ rid: this.rid, err: (err as Error).message }, 'publish to ingress failed');
    }
  }
}
