import type { Msg } from 'nats';
import { subjects } from '@tokios/shared/subjects';
import { FrameKind, REQUEST_ENVELOPE_BYTES, chunkBytes, encodeFrame, encodeWithJson, fabricRequestJson, metaBytes, type AckMeta, type RejectMeta, type RequestMeta } from '@tokios/shared/protocol';
import { TokiosError } from '@tokios/shared/errors';
import type { FabricClient, FallbackReason } from './fabric.js';
import { Placement } from './affinity/placement.js';
import type { TurnSender } from './request-turn.js';

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

/**
 * A call's placement and dispatch, up to the Ack: publish the Request (held while the fabric is down), wait for a
 * terminator to take it, retry, fall back along an alias's targets or to placement by load, and send the body parts
 * that did not fit the Request. The answer side (CallWatch, Call) builds on it; one class chain, so a request costs
 * one object.
 */
export abstract class CallDispatch implements TurnSender {
  protected attempt = 0;
  private ackRetries = ACK_RETRIES;
  /** The deployment ids to try, in order, and which one the call is on. */
  private readonly targets: readonly string[];
  private target = 0;
  /** A target answered busy: when the others are down, the call waits for room instead of failing. */
  private sawBusy = false;
  /** When the current target was first tried (the no-responders window is per target). */
  private targetSince: number;
  protected rid = '';
  /** Unique per call: the caller's request id may repeat, subjects and the pending map must not. */
  private readonly callId: string;
  /** The acking terminator's control subject for this attempt. */
  protected control: string | undefined;
  protected acked = false;
  protected headSeen = false;
  protected done = false;
  protected sentAt = 0;
  /** Published while the fabric was down: the Request goes out when it is back. */
  protected held = false;
  /** Body parts were sent while the connection may have been down (nats.js drops such publishes). */
  protected bodyPartsAt = 0;
  protected readonly started = Date.now();
  protected readonly deadline: number;
  protected retryTimer: NodeJS.Timeout | undefined;
  protected readonly placement: Placement;
  terminatorId: string | undefined;
  connectorId: string | undefined;

  constructor(
    protected readonly fabric: FabricClient,
    protected readonly input: CallInput,
  ) {
    this.deadline = this.started + fabric.options.requestTimeoutMs;
    this.callId = input.callId ?? fabric.newCallId();
    this.placement = new Placement(fabric.homes, input.sessionKey, input.deploymentId);
    this.targets = input.fallbackIds ? [input.deploymentId, ...input.fallbackIds] : [input.deploymentId];
    this.targetSince = this.started;
  }

  // What the fabric drives, kept by the answer side (CallWatch, Call).
  /** Frames from NATS for this call's inbox (the fabric's subscription hands them on). */
  abstract onMessage(msg: Msg): void;
  /** The terminator's heartbeat for this stream: `published` answer frames so far. */
  abstract beat(published: number, now?: number): void;
  /** Checked by the fabric's sweeper. */
  abstract checkTimers(now: number): void;
  /** This ingress's NATS connection is back. */
  abstract onReconnect(): void;
  /** Ends the call with an error (a Cancel to its terminator, the error to the caller). */
  abstract fail(err: TokiosError): void;

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

  protected publishRequest(): void {
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
    const json = fabricRequestJson(meta);
    const frame = encodeWithJson(FrameKind.Request, 0, json, metaBytes(FrameKind.Request, json), inline ? this.input.body : undefined);
    this.sentAt = Date.now();
    // At the end of the turn, with the other Requests of this turn (request-turn.ts).
    this.fabric.requests.publish(this, this.rid, this.placement.subject(this.deploymentId), frame, this.fabric.inbox(this.rid));
  }

  stillSends(rid: string): boolean {
    return !this.done && this.rid === rid;
  }

  publishFailed(err: Error): void {
    this.fail(new TokiosError('fabric_unavailable', `cannot publish the request: ${err.message}`));
  }

  protected onAck(ack: AckMeta): void {
    const { terminatorId, connectorId } = ack;
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
  }

  /** Before the Ack (checked by the fabric's sweeper): no terminator took the request in time, so try again or elsewhere. */
  protected checkAck(now: number): void {
    if (now - this.sentAt < this.fabric.options.ackTimeoutMs) return;
    if (this.placement.fallBack(false)) {
      this.fabric.log.warn({ rid: this.rid }, 'no ack from the session\'s home connector; placing by load');
      this.send();
    } else if (this.ackRetries-- > 0) {
      this.fabric.log.warn({ rid: this.rid }, 'no ack from a terminator; retrying');
      this.send();
    } else if (!this.nextTarget('no_ack')) this.fail(new TokiosError('no_tunnel', 'No terminator acknowledged the request.'));
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

  protected onNoResponders(): void {
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

  protected onReject(r: RejectMeta): void {
    if (this.headSeen) return this.fail(new TokiosError('protocol_error', 'reject after the answer started'));
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
}
