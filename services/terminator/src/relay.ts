import type { NatsConnection } from 'nats';
import type { Logger } from '@tokios/shared/log';
import { FrameKind, HEADER_BYTES, chunkBytes, encodeFrame, setFrameId, type RequestMeta, type RejectMeta, type Usage } from '@tokios/shared/protocol';
import type { ErrorCode } from '@tokios/shared/errors';
import type { TunnelRegistry } from './registry.js';
import type { Tunnel } from './tunnel.js';

export interface RelayContext {
  terminatorId: string;
  nc: NatsConnection;
  registry: TunnelRegistry;
  log: Logger;
  /** Called once when the stream is over, whatever the reason. */
  onDone(stream: RelayStream): void;
}

/**
 * One request between the NATS reply inbox of an ingress and a stream on a connector's tunnel.
 * Retries placement on another local tunnel while the connector rejects (nothing started yet);
 * after the first Head it is bound to that connector for good.
 */
export class RelayStream {
  private tunnel: Tunnel | undefined;
  private sid = 0;
  private readonly tried = new Set<Tunnel>();
  private readonly bodyParts: Buffer[] = [];
  private bodyReceived: number;
  private acked = false;
  private headSent = false;
  private seq = 0;
  private done = false;
  lastSent = Date.now();

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
      const reason: RejectMeta = rejected ?? {
        reason: this.ctx.registry.isRoutable(this.deploymentId) ? 'busy' : 'unavailable',
        message: this.ctx.registry.isRoutable(this.deploymentId) ? 'every connector here is at capacity' : 'no routable connector here',
      };
      this.publish(encodeFrame(FrameKind.Reject, 0, reason));
      this.finish();
      return;
    }
    this.tried.add(t);
    this.tunnel = t;
    this.sid = t.allocSid();
    t.streams.set(this.sid, this);
    this.ctx.registry.addLoad(t.connectorId, 1);
    const { ingressId: _i, tenantId: _t, keyId: _k, ...forward } = this.meta;
    const [first, ...rest] = this.bodyParts;
    t.send(encodeFrame(FrameKind.Request, this.sid, forward, first));
    for (const part of rest) t.send(encodeFrame(FrameKind.Body, this.sid, undefined, part));
    if (!this.acked) {
      this.acked = true;
      this.publish(encodeFrame(FrameKind.Ack, 0, { terminatorId: this.ctx.terminatorId, connectorId: t.connectorId }));
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
    this.tunnel?.send(encodeFrame(FrameKind.Body, this.sid, undefined, part));
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
    const max = this.ctx.nc.info?.max_payload ?? 1024 * 1024;
    if (frame.length <= max - 256) {
      setFrameId(frame, this.seq++);
      this.publish(frame);
      return;
    }
    for (const part of chunkBytes(frame.subarray(HEADER_BYTES), max - 1024)) {
      this.publish(encodeFrame(FrameKind.Data, this.seq++, undefined, part));
    }
  }

  onEnd(usage: Usage | undefined): void {
    this.publish(encodeFrame(FrameKind.End, 0, usage ? { frames: this.seq, usage } : { frames: this.seq }));
    this.finish();
  }

  onError(code: string, message: string, param?: string | null): void {
    this.publish(encodeFrame(FrameKind.Error, 0, param ? { code, message, param } : { code, message }));
    this.finish();
  }

  /** The ingress asked to stop (client went away) or cannot be reached any more. */
  cancel(reason: string): void {
    if (this.done) return;
    this.tunnel?.sendControl(FrameKind.Cancel, this.sid, { reason });
    this.finish();
  }

  /** Ends the stream with an error towards the ingress (tunnel lost, protocol error). */
  fail(code: ErrorCode, message: string): void {
    if (this.done) return;
    if (code !== 'tunnel_lost') this.tunnel?.sendControl(FrameKind.Cancel, this.sid, { reason: message });
    this.onError(code, message);
  }

  heartbeat(now: number): void {
    if (now - this.lastSent >= 0) this.publish(encodeFrame(FrameKind.Heartbeat, 0));
  }

  private publish(frame: Uint8Array): void {
    this.lastSent = Date.now();
    try {
      this.ctx.nc.publish(this.reply, frame, { reply: this.control });
    } catch (err) {
      this.ctx.log.warn({ rid: this.rid, err: (err as Error).message }, 'publish to ingress failed');
    }
  }

  private detach(): void {
    if (!this.tunnel) return;
    this.tunnel.streams.delete(this.sid);
    this.ctx.registry.addLoad(this.tunnel.connectorId, -1);
    this.tunnel = undefined;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.detach();
    this.ctx.onDone(this);
  }
}
