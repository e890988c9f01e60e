import { randomBytes } from 'node:crypto';
import type { Msg, NatsConnection, Subscription } from 'nats';
import type { Logger } from '@tokios/shared/log';
import { parseTerminatorSubject, subjects, tailToken, wildcard } from '@tokios/shared/subjects';
import {
  DEFAULT_NATS_MAX_PAYLOAD, FrameKind, REQUEST_ENVELOPE_BYTES, chunkBytes, dataFrameId, dataPayload, decodeFrame, encodeFrame, frameKindName, peekKind,
  type EndMeta, type Frame, type HeadMeta, type RejectMeta, type RequestMeta,
} from '@tokios/shared/protocol';
import { TokiosError, isErrorCode } from '@tokios/shared/errors';
import { NatsState } from '@tokios/shared/ops';
import type { IngressOptions } from './config.js';

/** What the fabric reports about placement (the ingress metrics). */
export interface FabricObserver {
  /** A terminator took the request `waitedMs` after it was first published. */
  acked(deploymentId: string, waitedMs: number): void;
  rejected(reason: RejectMeta['reason']): void;
}

export interface CallHandlers {
  onHead(head: HeadMeta): void;
  onData(payload: Buffer): void;
  onEnd(end: EndMeta): void;
  onError(err: TokiosError): void;
}

export interface CallInput {
  deploymentId: string;
  meta: Omit<RequestMeta, 'rid' | 'bodyLength' | 'ingressId' | 'deadline'>;
  body: Buffer;
  /** The request id every tier logs (meta.requestId); the fabric's own attempt ids are unique per call. */
  requestId: string;
  /** From newCallId() when the caller needs it first (usage records); else made here. */
  callId?: string;
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
/**
 * A Cancel is kept this long and published again after a NATS reconnect: nats.js drops whatever was published while
 * the connection was down, and a lost Cancel would leave the model generating for nobody.
 */
const CANCEL_RESEND_MS = 5_000;
const MAX_KEPT_CANCELS = 10_000;
/** Frames that keep coming for a request this ingress no longer tracks get one Cancel per this interval. */
const ORPHAN_CANCEL_EVERY_MS = 250;

/** One request's life on the fabric: publish, Ack, body parts, frames back, retries before the Ack. */
export class Call {
  private attempt = 0;
  private rid = '';
  /** Unique per call: the caller's request id may repeat, subjects and the pending map must not. */
  private readonly callId: string;
  private control: string | undefined;
  private acked = false;
  private headSeen = false;
  private seq = 0;
  private done = false;
  private sentAt = 0;
  lastSeen = 0;
  private readonly started = Date.now();
  private readonly deadline: number;
  private retryTimer: NodeJS.Timeout | undefined;
  terminatorId: string | undefined;
  connectorId: string | undefined;

  constructor(
    private readonly fabric: FabricClient,
    private readonly input: CallInput,
    private readonly handlers: CallHandlers,
  ) {
    this.deadline = this.started + fabric.options.requestTimeoutMs;
    this.callId = input.callId ?? fabric.newCallId();
  }

  get id(): string {
    return this.rid;
  }

  send(): void {
    if (this.done) return;
    // With NATS away a publish is only buffered and no Ack can come: say so now instead of after the Ack timeout.
    if (!this.fabric.connected) return this.fail(new TokiosError('fabric_unavailable', 'The gateway fabric (NATS) is unavailable; retry shortly.', { headers: { 'retry-after': '1' } }));
    this.fabric.forget(this);
    this.attempt++;
    this.rid = `${this.callId}-${this.attempt}`;
    this.acked = false;
    this.control = undefined;
    this.fabric.track(this);
    const maxPayload = this.fabric.maxPayload();
    const inline = this.input.body.length <= maxPayload - REQUEST_ENVELOPE_BYTES;
    const meta: RequestMeta = {
      ...this.input.meta,
      rid: this.rid,
      requestId: this.input.requestId,
      ingressId: this.fabric.id,
      bodyLength: this.input.body.length,
      deadline: this.deadline,
    };
    const frame = encodeFrame(FrameKind.Request, 0, meta, inline ? this.input.body : undefined);
    this.sentAt = Date.now();
    try {
      this.fabric.nc.publish(subjects.request(this.input.deploymentId), frame, { reply: this.fabric.inbox(this.rid) });
    } catch (err) {
      this.fail(new TokiosError('fabric_unavailable', `cannot publish the request: ${(err as Error).message}`));
    }
  }

  onMessage(msg: Msg): void {
    if (this.done) return;
    if (msg.data.length === 0 && msg.headers?.code === 503) return this.onNoResponders();
    const buf = Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength);
    this.lastSeen = Date.now();
    try {
      if (peekKind(buf) === FrameKind.Data) this.onData(buf);
      else this.onFrame(decodeFrame(buf));
    } catch (err) {
      this.protocolError((err as Error).message);
    }
  }

  private onFrame(frame: Frame): void {
    switch (frame.kind) {
      case FrameKind.Ack: {
        const { terminatorId, connectorId } = frame.meta;
        this.acked = true;
        this.terminatorId = terminatorId;
        this.connectorId = connectorId;
        this.control = subjects.terminator(terminatorId, this.rid);
        this.fabric.observer?.acked(this.input.deploymentId, Date.now() - this.started);
        this.sendBodyParts();
        return;
      }
      case FrameKind.Heartbeat:
        return;
      case FrameKind.Reject:
        return this.onReject(frame.meta);
      case FrameKind.Head:
        this.headSeen = true;
        this.handlers.onHead(frame.meta);
        return;
      case FrameKind.End:
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

  /** Hot path: a Data frame is checked by its header (the sequence number) and handed on without decoding. */
  private onData(buf: Buffer): void {
    const seq = dataFrameId(buf);
    if (seq !== this.seq) return this.protocolError(`frame ${seq} arrived, expected ${this.seq}: a part of the answer was lost`);
    this.seq++;
    this.handlers.onData(dataPayload(buf));
  }

  /** Checked by the fabric's sweeper: missing Ack, or silence after it. */
  checkTimers(now: number): void {
    if (this.done || this.retryTimer) return;
    if (now > this.deadline) return this.fail(new TokiosError('timeout'));
    if (!this.acked) {
      if (now - this.sentAt < this.fabric.options.ackTimeoutMs) return;
      if (this.attempt <= ACK_RETRIES) {
        this.fabric.log.warn({ rid: this.rid }, 'no ack from a terminator; retrying');
        this.send();
      } else this.fail(new TokiosError('no_tunnel', 'No terminator acknowledged the request.'));
      return;
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

  private onNoResponders(): void {
    if (this.acked) return;
    if (Date.now() - this.started < (this.fabric.options.noRespondersWindowMs ?? NO_RESPONDERS_WINDOW_MS)) return this.retryLater(20 + Math.random() * 60);
    this.fail(new TokiosError('no_tunnel', `No connector is online for deployment "${this.input.meta.model}".`));
  }

  private onReject(r: RejectMeta): void {
    if (this.headSeen) return this.protocolError('reject after the answer started');
    this.fabric.observer?.rejected(r.reason);
    const waited = Date.now() - this.started;
    const mayResend = this.attempt < MAX_REQUEST_SENDS && (this.attempt + 1) * this.input.body.length <= MAX_SENT_BODY_BYTES;
    if (r.reason === 'busy') {
      if (waited < this.fabric.options.queueTimeoutMs && mayResend) return this.retryLater(Math.min(500, 10 * 2 ** Math.min(this.attempt, 6)) * (0.5 + Math.random()));
      return this.fail(new TokiosError('capacity', `Every connector for "${this.input.meta.model}" stayed at capacity for ${waited} ms.`));
    }
    // unavailable / unhealthy / draining: that terminator has nothing for us; another may.
    if (this.attempt < 8 && mayResend && waited < this.fabric.options.queueTimeoutMs) return this.retryLater(10 + Math.random() * 40);
    this.fail(new TokiosError('no_tunnel', `No healthy connector for "${this.input.meta.model}" (${r.reason}).`));
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

/** The ingress side of NATS: one inbox subscription for every request this process has in flight. */
export class FabricClient {
  readonly id = `ing_${randomBytes(6).toString('hex')}`;
  private readonly pending = new Map<string, Call>();
  /** Cancels of the last CANCEL_RESEND_MS by control subject, oldest first: re-published after a reconnect. */
  private readonly cancels = new Map<string, { frame: Buffer; at: number }>();
  private sub: Subscription | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly inboxPrefix: string;
  private readonly nats: NatsState;
  /** Set by the app: placement timings for the metrics. */
  observer: FabricObserver | undefined;
  private calls = 0;

  constructor(
    readonly nc: NatsConnection,
    readonly options: IngressOptions,
    readonly log: Logger,
  ) {
    this.inboxPrefix = subjects.ingressInboxPrefix(this.id);
    this.nats = new NatsState(nc);
  }

  /** NATS is connected now (readiness; calls fail fast with fabric_unavailable while it is not). */
  get connected(): boolean {
    return this.nats.up;
  }

  start(): void {
    this.sub = this.nc.subscribe(wildcard(this.inboxPrefix), {
      callback: (_err, msg) => {
        const rid = tailToken(msg.subject, this.inboxPrefix);
        if (!rid) return;
        const call = this.pending.get(rid);
        if (call) call.onMessage(msg);
        else this.orphan(rid, msg);
      },
    });
    // Often enough that a dead terminator is noticed within the stall timeout plus one tick (<= 1 s by default).
    const every = Math.max(20, Math.min(100, Math.floor(Math.min(this.options.ackTimeoutMs, this.options.stallTimeoutMs) / 4)));
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const c of [...this.pending.values()]) c.checkTimers(now);
      this.pruneCancels(now);
    }, every);
    this.sweeper.unref();
    void this.watch();
  }

  /** `<ingress id>_<counter>`: unique across ingresses (terminators key streams by it) and within 64 characters. */
  newCallId(): string {
    return `${this.id}_${(++this.calls).toString(36)}`;
  }

  call(input: CallInput, handlers: CallHandlers): Call {
    const c = new Call(this, input, handlers);
    c.send();
    return c;
  }

  inbox(rid: string): string {
    return subjects.ingressInbox(this.id, rid);
  }

  maxPayload(): number {
    return this.nc.info?.max_payload ?? DEFAULT_NATS_MAX_PAYLOAD;
  }

  track(c: Call): void {
    c.lastSeen = Date.now();
    this.pending.set(c.id, c);
  }

  forget(c: Call): void {
    if (this.pending.get(c.id) === c) this.pending.delete(c.id);
  }

  /**
   * A frame for a request this ingress no longer tracks: the caller left, or the call failed or was retried elsewhere
   * before that terminator's Ack or frames arrived (also after a NATS reconnect that lost the first Cancel). Its
   * sender is told to stop, or the model would keep generating for nobody. The sender is the frame's reply subject,
   * untrusted: only a terminator subject for this very request gets the Cancel.
   */
  private orphan(rid: string, msg: Msg): void {
    if (msg.data.length === 0) return; // a no-responders notice: nobody to tell
    const kind = peekKind(msg.data);
    if (kind === FrameKind.End || kind === FrameKind.Error || kind === FrameKind.Reject) return; // over anyway
    const reply = msg.reply;
    if (!reply || parseTerminatorSubject(reply)?.rid !== rid) return;
    const last = this.cancels.get(reply);
    if (last && Date.now() - last.at < ORPHAN_CANCEL_EVERY_MS) return;
    this.sendCancel(reply, 'caller gone');
  }

  /** Publishes a Cancel to a terminator's control subject, and keeps it to publish again after a reconnect. */
  sendCancel(subject: string, reason: string): void {
    const frame = encodeFrame(FrameKind.Cancel, 0, { reason });
    this.cancels.delete(subject);
    this.cancels.set(subject, { frame, at: Date.now() });
    if (this.cancels.size > MAX_KEPT_CANCELS) this.cancels.delete(this.cancels.keys().next().value as string);
    this.publishControl(subject, frame);
  }

  private pruneCancels(now: number): void {
    for (const [subject, c] of this.cancels) {
      if (now - c.at < CANCEL_RESEND_MS) break;
      this.cancels.delete(subject);
    }
  }

  /** After a reconnect: every recent Cancel again (a terminator ignores one for a stream it no longer has). */
  private resendCancels(): void {
    this.pruneCancels(Date.now());
    for (const [subject, c] of this.cancels) this.publishControl(subject, c.frame);
  }

  publishControl(subject: string, frame: Uint8Array): void {
    try {
      this.nc.publish(subject, frame);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'control publish failed');
    }
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Publishes made while NATS reconnects are lost, so every call in flight is failed cleanly. */
  private async watch(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'reconnect') this.resendCancels();
      if (s.type !== 'disconnect') continue;
      for (const c of [...this.pending.values()]) c.fail(new TokiosError('fabric_unavailable', 'Lost the connection to the gateway fabric mid-request.'));
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    for (const c of [...this.pending.values()]) c.fail(new TokiosError('fabric_unavailable', 'ingress shutting down'));
    this.sub?.unsubscribe();
  }
}
