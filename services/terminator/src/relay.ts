import type { ErrorCode } from '@tokios/shared/errors';
import { FrameKind, encodeBodyFrames, encodeFrame, encodeRequestJsonFrames, encodeRequestMetaFrames, tunnelRequestJson, type EndMeta, type RequestMeta, type RejectMeta } from '@tokios/shared/protocol';
import { IngressLeg, type IngressLegContext } from './ingress-leg.js';
import type { TunnelRegistry } from './registry.js';
import type { Tunnel, TunnelStream } from './tunnel.js';

export interface RelayContext extends IngressLegContext {
  registry: TunnelRegistry<Tunnel>;
  /** Called once when the stream is over, with how it ended. */
  onDone(stream: RelayStream, result: RelayResult): void;
}

const NONE_TRIED: ReadonlySet<Tunnel> = new Set();

/** How a relayed request ended, as the terminator saw it (metrics label). */
export type RelayResult = 'ok' | 'error' | 'cancelled' | 'rejected';

/**
 * One request between the NATS reply inbox of an ingress and a stream on a connector's tunnel: this is the connector
 * side (placement, the request and its body on the tunnel, the answer frames from it, cancels and flow control);
 * IngressLeg is the side towards the ingress. Retries placement on another local tunnel while the connector rejects
 * (nothing started yet); after the first Head it is bound to that connector for good.
 */
export class RelayStream extends IngressLeg implements TunnelStream {
  private tunnel: Tunnel | undefined;
  private sid = 0;
  /**
   * The tunnels this request was placed on: the one, or a Set once it was placed again (most requests are placed
   * once, and a Set per request is an allocation the garbage collector pays for).
   */
  private tried: Tunnel | Set<Tunnel> | undefined;
  private readonly bodyParts: Buffer[] = [];
  private bodyReceived: number;
  private headSent = false;
  /** The connector the request was last placed on (for the request's log line). */
  connectorId: string | undefined;

  constructor(
    protected override readonly ctx: RelayContext,
    meta: RequestMeta,
    readonly deploymentId: string,
    reply: string,
    control: string,
    inlineBody: Buffer,
    /** The metadata for the connector as JSON bytes, when the Request was read from its bytes (request-fast.ts); else built from `meta`. */
    private readonly tunnelMeta: Buffer | undefined,
    /** Placed on this connector only (the request came on its own subject: a session's home), else on any. */
    private readonly pinned?: string,
  ) {
    super(ctx, meta, reply, control);
    if (inlineBody.length > 0) this.bodyParts.push(inlineBody);
    this.bodyReceived = inlineBody.length;
  }

  /**
   * Places the request on the least loaded routable tunnel (of the pinned connector, when there is one), or answers
   * Reject when there is none: for a pinned request, the ingress then places it on the deployment's subject at once.
   */
  place(rejected?: RejectMeta): void {
    const t = this.ctx.registry.pick(this.deploymentId, this.triedSet(), this.pinned);
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
    const tried = this.tried;
    if (tried === undefined) this.tried = t;
    else if (tried instanceof Set) tried.add(t);
    else this.tried = new Set([tried, t]);
    this.tunnel = t;
    this.connectorId = t.connectorId;
    this.sid = t.open(this);
    this.ctx.registry.addLoad(t.connectorId, 1);
    const frames = this.tunnelMeta
      ? encodeRequestMetaFrames(this.sid, this.tunnelMeta, this.bodyParts, t.maxFrameBytes)
      : encodeRequestJsonFrames(this.sid, tunnelRequestJson(this.meta), this.bodyParts, t.maxFrameBytes);
    for (const frame of frames) t.send(frame);
    // The ingress waits for the Ack before it sends the rest of a large body: no deferral then.
    this.ack(t.connectorId, this.bodyReceived < this.meta.bodyLength);
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
    this.publishHead(frame);
  }

  /** Relays a connector Data frame; the buffer is reused in place with our sequence number. */
  onData(frame: Buffer): void {
    this.publishData(frame);
  }

  onEnd(end: EndMeta, frame: Buffer): void {
    this.publishEnd(end, frame);
    this.finish(end.error ? 'error' : 'ok');
  }

  onError(code: string, message: string, param?: string | null): void {
    this.publishError(code, message, param);
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

  /** The tunnels tried so far, as placement takes them. */
  private triedSet(): ReadonlySet<Tunnel> {
    const tried = this.tried;
    if (tried === undefined) return NONE_TRIED;
    return tried instanceof Set ? tried : new Set([tried]);
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
    this.dropAck();
    this.detach();
    this.ctx.onDone(this, result);
  }
}
