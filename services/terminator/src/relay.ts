import type { NatsConnection } from 'nats';
import type { Logger } from '@tokios/shared/log';
import {
  DEFAULT_NATS_MAX_PAYLOAD, FrameKind, NATS_RELAY_SLACK_BYTES, chunkBytes, dataPayload, encodeBodyFrames, encodeFrame, encodeRequestFrames,
  payloadRoom, setFrameId, type EndMeta, type RequestMeta, type RejectMeta,
} from '@tokios/shared/protocol';
import type { ErrorCode } from '@tokios/shared/errors';
import type { AckBatcher, DeferredAck } from './ack-batcher.js';
import type { TunnelRegistry } from './registry.js';
import type { Tunnel, TunnelStream } from './tunnel.js';

export interface RelayContext {
  terminatorId: string;
  nc: NatsConnection;
  registry: TunnelRegistry<Tunnel>;
  log: Logger;
  /** Holds Acks back briefly so a quick answer carries its Ack in the same NATS write (see AckBatcher). */
  acks: AckBatcher;
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
export class RelayStream implements TunnelStream, DeferredAck {
  private tunnel: Tunnel | undefined;
  private sid = 0;
  private readonly tried = new Set<Tunnel>();
  private readonly bodyParts: Buffer[] = [];
  private bodyReceived: number;
  private acked = false;
  /** Ack not yet published (deferred until the first answer frame or the AckBatcher's timer). */
  private ackFrame: Buffer | undefined;
  private headSent = false;
  private seq = 0;
  private done = false;
  lastSent = Date.now();
  readonly startedAt = this.lastSent;
  /** The connector the request was last placed on (for the request's log line). */
  connectorId: string | undefined;

  constructor(
    private readonly ctx: RelayContext,
    readonly meta: RequestMeta,
    readonly deploymentId: string,
    /** Ingress inbox for this request. */
    readonly reply: string,
    /** Our subject for this request: body parts and cancels arrive here; it is also the reply of every frame we send. */
    readonly control: string,
    inlineBody: Buffer,
  ) {
    if (inlineBody.length > 0) this.bodyParts.push(inlineBody);
    this.bodyReceived = inlineBody.length;
  }

  get rid(): string {
    return this.meta.rid;
  }

  /** Places the request on the least loaded routable tunnel, or answers Reject when there is none. */
  place(rejected?: RejectMeta): void {
    const t = this.ctx.registry.pick(this.deploymentId, this.tried);
    if (!t) {
      const routable = this.ctx.registry.isRoutable(this.deploymentId);
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
    const { ingressId: _i, tenantId: _t, keyId: _k, ...forward } = this.meta;
    for (const frame of encodeRequestFrames(this.sid, forward, this.bodyParts, t.maxFrameBytes)) t.send(frame);
    if (!this.acked) {
      this.acked = true;
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
    this.publish(frame);
  }

  /** Relays a connector Data frame; the buffer is reused in place with our sequence number. */
  onData(frame: Buffer): void {
    const room = (this.ctx.nc.info?.max_payload ?? DEFAULT_NATS_MAX_PAYLOAD) - NATS_RELAY_SLACK_BYTES;
    if (frame.length <= room) {
      setFrameId(frame, this.seq++);
      this.publish(frame);
      return;
    }
    for (const part of chunkBytes(dataPayload(frame), payloadRoom(room))) {
      this.publish(encodeFrame(FrameKind.Data, this.seq++, undefined, part));
    }
  }

  onEnd(end: EndMeta): void {
    // Our own frame count: Data frames too large for NATS were split on the way.
    const meta: EndMeta = { frames: this.seq };
    if (end.usage) meta.usage = end.usage;
    if (end.error) meta.error = end.error;
    this.publish(encodeFrame(FrameKind.End, 0, meta));
    this.finish(end.error ? 'error' : 'ok');
  }

  onError(code: string, message: string, param?: string | null): void {
    this.publish(encodeFrame(FrameKind.Error, 0, param ? { code, message, param } : { code, message }));
    this.finish('error');
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

  /** Ends the stream with an error towards the ingress (tunnel lost, protocol error). */
  fail(code: ErrorCode, message: string): void {
    if (this.done) return;
    if (code !== 'tunnel_lost') this.tunnel?.sendControl(FrameKind.Cancel, this.sid, { reason: message });
    this.onError(code, message);
  }

  /** Tells the ingress the stream is alive when nothing else was sent for `idleMs`. */
  heartbeat(now: number, idleMs: number): void {
    if (now - this.lastSent >= idleMs) this.publish(encodeFrame(FrameKind.Heartbeat, 0));
  }

  /** Publishes the deferred Ack, if any. */
  flushAck(): void {
    const ack = this.ackFrame;
    if (!ack) return;
    this.ackFrame = undefined;
    this.ctx.acks.delete(this);
    this.send(ack);
  }

  private publish(frame: Uint8Array): void {
    if (this.ackFrame) this.flushAck();
    this.send(frame);
  }

  private send(frame: Uint8Array): void {
    this.lastSent = Date.now();
    try {
      this.ctx.nc.publish(this.reply, frame, { reply: this.control });
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
