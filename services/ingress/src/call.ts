import type { Msg } from 'nats';
import { subjects } from '@tokios/shared/subjects';
import {
  FrameKind, REQUEST_ENVELOPE_BYTES, chunkBytes, dataFrameId, dataPayload, decodeFrame, encodeFrame, frameKindName, peekKind, splitBatch,
  type EndMeta, type Frame, type HeadMeta, type RejectMeta, type RequestMeta,
} from '@tokios/shared/protocol';
import { TokiosError, isErrorCode } from '@tokios/shared/errors';
import type { FabricClient, FallbackReason } from './fabric.js';
import { PauseLease } from './pause-lease.js';
import { Placement } from './affinity/placement.js';

export interface CallHandlers {
  onHead(head: HeadMeta): void;
  onData(payload: Buffer): void;
  onEnd(end: EndMeta): void;
  onError(err: TokiosError): void;
}

export interface CallInput {
  deploymentId: string;
  /**
   * An alias's other targets, in the order to try them: the call moves to the next one when the current one has no
   * terminator (no responders, no Ack) or answers Reject before any answer frame. Never after the Head.
   */
  fallbackIds?: readonly string[];
  meta: Omit<RequestMeta, 'rid' | 'bodyLength' | 'ingressId' | 'deadline'>;
  body: Buffer;
  /** The request id every tier logs (meta.requestId); the fabric's own attempt ids are unique per call. */
  requestId: string;
  /** From newCallId() when the caller needs it first (usage records); else made here. */
  callId?: string;
  /** The request's session (shared/src/routing/session-key.ts), for cache-affine placement; none: by load alone. */
  sessionKey?: string | undefined;
}

/** Answers to "no responders" (no terminator subscribed yet) are retried this long: interest spreads asynchronously. */
export const NO_RESPONDERS_WINDOW_MS = 400;
const ACK_RETRIES = 1;
/**
 * Every retry after a Reject sends the whole body again: a connector that rejects everything must not turn one
 * request into a hundred copies on the fabric. Retries stop at whichever comes first of the queue window, this
 * many sends, or this many bytes sent in all (then 503 capacity / no_tunnel).
 */
export const MAX_REQUEST_SENDS = 64;
export const MAX_SENT_BODY_BYTES = 64 * 1024 * 1024;
/** A call asks for the part of its answer it missed at most this often, and this many times in all. */
const RESUME_EVERY_MS = 200;
const MAX_RESUMES = 8;

/**
 * One request's life on the fabric: publish, Ack, body parts, frames back, retries before the Ack. Across a NATS
 * reconnect of this ingress, a new request is held (up to the Ack timeout) and published once the connection is
 * back, and a stream in flight asks its terminator for what it missed (Resume; the terminator keeps a replay
 * buffer) instead of failing.
 */
export class Call {
  private attempt = 0;
  private ackRetries = ACK_RETRIES;
  /** The deployment ids to try, in order, and which one the call is on. */
  private readonly targets: readonly string[];
  private target = 0;
  /** A target answered busy: when the others are down, the call waits for room instead of failing. */
  private sawBusy = false;
  /** When the current target was first tried (the no-responders window is per target). */
  private targetSince: number;
  private rid = '';
  /** Unique per call: the caller's request id may repeat, subjects and the pending map must not. */
  private readonly callId: string;
  private control: string | undefined;
  private acked = false;
  private headSeen = false;
  private seq = 0;
  private done = false;
  private sentAt = 0;
  /** Published while the fabric was down: the Request goes out when it is back. */
  private held = false;
  /** Body parts were sent while the connection may have been down (nats.js drops such publishes). */
  private bodyPartsAt = 0;
  private resumes = 0;
  private resumeAskedAt = 0;
  /** A gap is open (frames lost): it must be filled by a replay within the stall timeout. */
  private gapSince = 0;
  private gapReason = '';
  /** Pause/Unpause towards the connector while the caller does not read. */
  private readonly flow = new PauseLease((frame) => {
    if (this.control) this.fabric.publishControl(this.control, frame);
  });
  lastSeen = 0;
  private readonly started = Date.now();
  private readonly deadline: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly placement: Placement;
  terminatorId: string | undefined;
  connectorId: string | undefined;

  constructor(
    private readonly fabric: FabricClient,
    private readonly input: CallInput,
    private readonly handlers: CallHandlers,
  ) {
    this.deadline = this.started + fabric.options.requestTimeoutMs;
    this.callId = input.callId ?? fabric.newCallId();
    this.placement = new Placement(fabric.homes, input.sessionKey, input.deploymentId);
    this.targets = [input.deploymentId, ...(input.fallbackIds ?? [])];
    this.targetSince = this.started;
  }

  /** The deployment the call is placed on now; after the Ack, the one that serves it. */
  get deploymentId(): string {
    return this.targets[this.target]!;
  }

  get id(): string {
    return this.rid;
  }

  send(): void {
    if (this.done) return;
    this.fabric.forget(this);
    this.attempt++;
    this.rid = `${this.callId}-${this.attempt}`;
    this.acked = false;
    this.control = undefined;
    this.fabric.track(this);
    this.sentAt = Date.now();
    if (!this.fabric.linkUp) {
      this.held = true;
      return;
    }
    this.publishRequest();
  }

  private publishRequest(): void {
    this.held = false;
    const maxPayload = this.fabric.maxPayload();
    const inline = this.input.body.length <= maxPayload - REQUEST_ENVELOPE_BYTES;
    // Field by field, not a spread of input.meta: a spread plus added fields makes a slow-mode object that V8 builds
    // and stringifies at several µs per request. Undefined fields are left out of the JSON either way.
    const m = this.input.meta;
    const meta = {
      rid: this.rid,
      requestId: this.input.requestId,
      protocol: m.protocol,
      model: m.model,
      stream: m.stream,
      bodyLength: this.input.body.length,
      deadline: this.deadline,
      headers: m.headers,
      ingressId: this.fabric.id,
      tenantId: m.tenantId,
      keyId: m.keyId,
      batches: true,
      pairHeartbeats: true,
    } satisfies RequestMeta & Record<keyof RequestMeta, unknown>; // every field named: a new one must be added here
    const frame = encodeFrame(FrameKind.Request, 0, meta, inline ? this.input.body : undefined);
    this.sentAt = Date.now();
    try {
      this.fabric.nc.publish(this.placement.subject(this.deploymentId), frame, { reply: this.fabric.inbox(this.rid) });
    } catch (err) {
      this.fail(new TokiosError('fabric_unavailable', `cannot publish the request: ${(err as Error).message}`));
    }
  }

  /**
   * This ingress's NATS connection is back. A held Request goes out now; one sent before that may have been lost,
   * or its Ack, so it goes again as a new attempt (a terminator that took the old one gets a Cancel when it answers).
   * A stream asks for what it missed; one whose body parts may have been lost starts over if nothing was answered.
   */
  onReconnect(): void {
    if (this.done || this.retryTimer) return;
    this.lastSeen = Date.now();
    if (this.held) return this.publishRequest();
    if (!this.acked) return this.send();
    if (this.bodyPartsAt > 0 && !this.headSeen) {
      if (this.control) this.fabric.sendCancel(this.control, 'restarted after a fabric reconnect');
      return this.send();
    }
    this.askResume('the fabric reconnected', { force: true, gap: false });
    this.flow.reconnected(Date.now());
  }

  /** The caller stopped reading: the connector stops reading the model's answer for this stream (PauseLease). */
  pause(): void {
    if (!this.done) this.flow.pause(Date.now());
  }

  /** The caller drained what it was sent: the answer flows again. */
  unpause(): void {
    if (!this.done) this.flow.unpause(Date.now());
  }

  onMessage(msg: Msg): void {
    if (this.done) return;
    if (msg.data.length === 0 && msg.headers?.code === 503) return this.onNoResponders();
    const buf = Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength);
    this.lastSeen = Date.now();
    try {
      if (peekKind(buf) !== FrameKind.Batch) return this.onOne(buf);
      // Frames of one attempt: one that ends it (End, Error, a Reject that places the request again) ends the batch.
      const rid = this.rid;
      for (const frame of splitBatch(buf)) {
        if (this.done || this.rid !== rid) return;
        this.onOne(frame);
      }
    } catch (err) {
      this.protocolError((err as Error).message);
    }
  }

  private onOne(buf: Buffer): void {
    if (peekKind(buf) === FrameKind.Data) this.onData(buf);
    else this.onFrame(decodeFrame(buf));
  }

  private onFrame(frame: Frame): void {
    switch (frame.kind) {
      case FrameKind.Ack: {
        const { terminatorId, connectorId } = frame.meta;
        if (this.acked) {
          // Sent again after that terminator's reconnect, or because it placed the request on another connector
          // before the answer started (the first rejected it): the session's home is the one that serves.
          if (terminatorId === this.terminatorId && connectorId !== this.connectorId && !this.headSeen) {
            this.connectorId = connectorId;
            this.placement.acked(this.deploymentId, connectorId);
          }
          return;
        }
        this.acked = true;
        this.terminatorId = terminatorId;
        this.connectorId = connectorId;
        this.control = subjects.terminator(terminatorId, this.rid);
        this.fabric.observer?.acked(this.deploymentId, Date.now() - this.started);
        this.fabric.observer?.placed(this.placement.acked(this.deploymentId, connectorId));
        this.sendBodyParts();
        return;
      }
      case FrameKind.Heartbeat:
        return this.beat(frame.id);
      case FrameKind.Reject:
        return this.onReject(frame.meta);
      case FrameKind.Head:
        if (this.headSeen) return; // a replay
        this.headSeen = true;
        this.handlers.onHead(frame.meta);
        return;
      case FrameKind.End:
        if (frame.meta.frames > this.seq) return this.askResume(`stream ended after ${this.seq} of ${frame.meta.frames} frames`);
        if (frame.meta.frames !== this.seq) return this.protocolError(`stream ended after ${this.seq} of ${frame.meta.frames} frames`);
        this.finish();
        this.handlers.onEnd(frame.meta);
        return;
      case FrameKind.Error: {
        const { code, message, param } = frame.meta;
        return this.fail(new TokiosError(isErrorCode(code) ? code : 'upstream_error', message, { param: param ?? null }));
      }
      default:
        return this.protocolError(`unexpected ${frameKindName(frame.kind)} frame`);
    }
  }

  /**
   * The terminator says the stream is alive and has published `published` answer frames (Head + Data): a Heartbeat
   * of its own, or its entry in the terminator's PairHeartbeat. More than arrived means some were lost: ask for them.
   */
  beat(published: number, now = Date.now()): void {
    if (this.done) return;
    this.lastSeen = now;
    const have = (this.headSeen ? 1 : 0) + this.seq;
    if (published > have) this.askResume(`the terminator published ${published} answer frames, ${have} arrived`);
  }

  /**
   * Hot path: a Data frame is checked by its header (the sequence number) and handed on without decoding. An
   * earlier one is a replay of what arrived already; a later one means frames were lost: ask for them.
   */
  private onData(buf: Buffer): void {
    const seq = dataFrameId(buf);
    if (seq < this.seq) return;
    if (seq > this.seq) return this.askResume(`frame ${seq} arrived, expected ${this.seq}: a part of the answer was lost`);
    this.seq++;
    if (this.gapSince > 0) {
      this.gapSince = 0;
      this.resumes = 0;
    }
    this.handlers.onData(dataPayload(buf));
  }

  /**
   * Asks the terminator to publish again what it sent after what we have (its replay buffer). A known gap stays open
   * until the sequence moves on: checkTimers asks again while it is (a Resume can be lost in a reconnect too) and
   * fails the call when it outlasts the stall timeout. After our own reconnect nothing is known to be missing: the
   * ask is a precaution and opens no gap.
   */
  private askResume(why: string, o: { force?: boolean; gap?: boolean } = {}): void {
    if (!this.control) return; // no Ack yet (lost in the reconnect too): the terminator sends it again first
    const now = Date.now();
    if (o.gap !== false && this.gapSince === 0) {
      this.gapSince = now;
      this.gapReason = why;
    }
    if (!o.force && now - this.resumeAskedAt < RESUME_EVERY_MS) return;
    if (++this.resumes > MAX_RESUMES) return this.protocolError(`${why} (not resumed after ${MAX_RESUMES} attempts)`);
    this.resumeAskedAt = now;
    this.fabric.log.info({ rid: this.rid, why, head: this.headSeen, next: this.seq }, 'asking the terminator to resume the stream');
    this.fabric.publishControl(this.control, encodeFrame(FrameKind.Resume, 0, { head: this.headSeen, next: this.seq }), this.fabric.inbox(this.rid));
  }

  /** Checked by the fabric's sweeper: missing Ack, or silence after it, or a fabric outage past the Ack timeout. */
  checkTimers(now: number): void {
    if (this.done || this.retryTimer) return;
    if (now > this.deadline) return this.fail(new TokiosError('timeout'));
    if (!this.fabric.linkUp) {
      // Held across the reconnect, as long as an Ack may take: a node killed outright fails calls within about 1 s.
      const since = Math.max(this.fabric.downSince, this.held ? this.sentAt : 0);
      if (now - since > this.fabric.options.ackTimeoutMs) {
        this.fail(new TokiosError('fabric_unavailable', 'The gateway fabric (NATS) is unavailable; retry shortly.', { headers: { 'retry-after': '1' } }));
      }
      return;
    }
    if (!this.acked) {
      if (now - this.sentAt < this.fabric.options.ackTimeoutMs) return;
      if (this.placement.fallBack(false)) {
        this.fabric.log.warn({ rid: this.rid }, 'no ack from the session\'s home connector; placing by load');
        this.send();
      } else if (this.ackRetries-- > 0) {
        this.fabric.log.warn({ rid: this.rid }, 'no ack from a terminator; retrying');
        this.send();
      } else if (!this.nextTarget('no_ack')) this.fail(new TokiosError('no_tunnel', 'No terminator acknowledged the request.'));
      return;
    }
    this.flow.tick(now);
    if (this.gapSince > 0) {
      if (now - this.gapSince > this.fabric.options.stallTimeoutMs) return this.protocolError(`${this.gapReason} (not resumed)`);
      if (now - this.resumeAskedAt >= RESUME_EVERY_MS) this.askResume(this.gapReason);
    }
    if (now - this.lastSeen > this.fabric.options.stallTimeoutMs) {
      this.fail(new TokiosError('tunnel_lost', 'The tunnel went silent mid-request.'));
    }
  }

  cancel(reason: string): void {
    if (this.done) return;
    if (this.control) this.fabric.sendCancel(this.control, reason);
    this.finish();
  }

  fail(err: TokiosError): void {
    if (this.done) return;
    if (this.control) this.fabric.sendCancel(this.control, err.code);
    this.finish();
    this.handlers.onError(err);
  }

  private protocolError(message: string): void {
    this.fail(new TokiosError('protocol_error', message));
  }

  /**
   * Moves an alias's call to its next target, at once (nothing was answered: no Ack, or a Reject). False when there
   * is none left. The new target gets its own no-responders window and Ack retry; the send and deadline limits
   * stay the call's.
   */
  private nextTarget(why: FallbackReason): boolean {
    if (this.target + 1 >= this.targets.length || this.headSeen || this.attempt >= MAX_REQUEST_SENDS) return false;
    const from = this.deploymentId;
    this.fabric.observer?.fellBack(why);
    this.target++;
    this.targetSince = Date.now();
    this.ackRetries = ACK_RETRIES;
    // debug: while a target is down every request through the alias falls back; its `request done` line names the target that served.
    this.fabric.log.debug({ rid: this.rid, from, to: this.deploymentId, why }, 'alias target unavailable; trying the next');
    this.send();
    return true;
  }

  /** Every target of an alias was tried and one was busy: the next round starts from the first (the preferred one). */
  private firstTargetAgain(): void {
    if (this.target === 0) return;
    this.target = 0;
    this.targetSince = Date.now();
  }

  private onNoResponders(): void {
    if (this.acked) return;
    // The session's home is gone (no terminator subscribes its subject): by load, at once.
    if (this.placement.fallBack(true)) return this.send();
    if (this.nextTarget('no_responders')) return;
    if (this.sawBusy && this.target > 0 && this.attempt < MAX_REQUEST_SENDS && Date.now() - this.started < this.fabric.options.queueTimeoutMs) {
      // An earlier target of the alias is only busy: wait for it rather than fail on this one being down.
      this.firstTargetAgain();
      return this.retryLater(this.busyBackoffMs());
    }
    if (Date.now() - this.targetSince < (this.fabric.options.noRespondersWindowMs ?? NO_RESPONDERS_WINDOW_MS)) return this.retryLater(20 + Math.random() * 60);
    this.fail(new TokiosError('no_tunnel', `No connector is online for deployment "${this.input.meta.model}".`));
  }

  private onReject(r: RejectMeta): void {
    if (this.headSeen) return this.protocolError('reject after the answer started');
    this.fabric.observer?.rejected(r.reason);
    // The home is at its cap, draining or unhealthy: by load, at once (the connector that takes it is the new home).
    if (this.placement.fallBack(r.reason !== 'busy')) return this.send();
    const waited = Date.now() - this.started;
    const mayResend = this.attempt < MAX_REQUEST_SENDS && (this.attempt + 1) * this.input.body.length <= MAX_SENT_BODY_BYTES;
    if (r.reason === 'busy') {
      this.sawBusy = true;
      if (this.nextTarget('busy')) return;
      if (waited < this.fabric.options.queueTimeoutMs && mayResend) {
        this.firstTargetAgain();
        return this.retryLater(this.busyBackoffMs());
      }
      return this.fail(new TokiosError('capacity', `Every connector for "${this.input.meta.model}" stayed at capacity for ${waited} ms.`));
    }
    // unavailable / unhealthy / draining: that terminator has nothing for us; another may.
    if (this.attempt < 8 && mayResend && waited < this.fabric.options.queueTimeoutMs) return this.retryLater(10 + Math.random() * 40);
    if (!this.nextTarget(r.reason)) this.fail(new TokiosError('no_tunnel', `No healthy connector for "${this.input.meta.model}" (${r.reason}).`));
  }

  private busyBackoffMs(): number {
    return Math.min(500, 10 * 2 ** Math.min(this.attempt, 6)) * (0.5 + Math.random());
  }

  private retryLater(ms: number): void {
    this.fabric.forget(this);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.send();
    }, ms);
  }

  private sendBodyParts(): void {
    const max = this.fabric.maxPayload() - REQUEST_ENVELOPE_BYTES;
    if (this.input.body.length <= max || !this.control) return;
    this.bodyPartsAt = Date.now();
    for (const part of chunkBytes(this.input.body, max)) {
      this.fabric.publishControl(this.control, encodeFrame(FrameKind.Body, 0, undefined, part));
    }
  }

  private finish(): void {
    this.done = true;
    clearTimeout(this.retryTimer);
    this.fabric.forget(this);
  }
}
