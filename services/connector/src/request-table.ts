import type { Logger } from '@tokios/shared/log';
import { FrameKind, encodeFrame, type RejectReason } from '@tokios/shared/protocol';
import { ActiveRequest, type RequestContext } from './active-request.js';
import type { ConnectorMetrics } from './metrics.js';
import type { StreamFrame, TunnelClient } from './tunnel-client.js';

/** Stream ids are u32: a tunnel's serial above them makes one number per (tunnel, stream), exact below 2^53. */
const SID_SPAN = 2 ** 32;

export interface RequestTableOptions {
  log: Logger;
  observer: ConnectorMetrics;
  /** Why a Request arriving on `tunnel` is refused before any work (draining, unhealthy, busy), or undefined. */
  refusal(tunnel: TunnelClient, inFlight: number): Exclude<RejectReason, 'unavailable'> | undefined;
  /** What every request of this connector shares (model server, log, metrics); `done` is the table's. */
  context: Omit<RequestContext, 'done'>;
  /** A request ended (its entry is gone already): the tunnel it was on may now be free to move or retire. */
  ended(tunnel: TunnelClient): void;
}

/**
 * The requests one connector serves now, by tunnel and stream id: a Request frame admitted or refused, the frames of
 * a stream handed to its request, and the count per tunnel that moving and retiring a tunnel wait for.
 */
export class RequestTable {
  private readonly active = new Map<number, ActiveRequest>();
  /** One context for all requests (no closures per request). */
  private readonly context: RequestContext;

  constructor(private readonly options: RequestTableOptions) {
    this.context = { ...options.context, done: (req) => this.done(req) };
  }

  get size(): number {
    return this.active.size;
  }

  onFrame(tc: TunnelClient, frame: StreamFrame): void {
    const key = tc.serial * SID_SPAN + frame.id;
    switch (frame.kind) {
      case FrameKind.Request: {
        const meta = frame.meta;
        const reason = this.options.refusal(tc, this.active.size);
        if (reason) {
          tc.sendFrame(encodeFrame(FrameKind.Reject, frame.id, { reason, message: `connector is ${reason}` }));
          // Counted, and logged at debug only: the ingress re-places a busy request with backoff for up to 30 s.
          this.options.observer.refused(meta.protocol, reason);
          this.options.log.debug({ reqId: meta.requestId, rid: meta.rid, reason }, 'request refused');
          return;
        }
        const req = new ActiveRequest(this.context, tc, frame.id, meta);
        this.active.set(key, req);
        req.onBody(frame.payload);
        return;
      }
      case FrameKind.Body:
        this.active.get(key)?.onBody(frame.payload);
        return;
      case FrameKind.Cancel:
        this.active.get(key)?.cancel('cancelled by gateway');
        return;
      case FrameKind.Pause:
        this.active.get(key)?.hold(frame.meta.ms);
        return;
      case FrameKind.Unpause:
        this.active.get(key)?.release('the caller reads again');
        return;
    }
  }

  /** Requests in flight on `tc`. */
  on(tc: TunnelClient): number {
    let n = 0;
    for (const req of this.active.values()) if (req.tunnel === tc) n++;
    return n;
  }

  /** Cancels every request on `tc` (undefined: every request). */
  cancel(reason: string, tc?: TunnelClient): void {
    for (const req of [...this.active.values()]) if (tc === undefined || req.tunnel === tc) req.cancel(reason);
  }

  private done(req: ActiveRequest): void {
    const key = req.tunnel.serial * SID_SPAN + req.sid;
    // A request that ended while another took its stream id (never, as the terminator numbers them) leaves it be.
    if (this.active.get(key) !== req) return;
    this.active.delete(key);
    this.options.ended(req.tunnel);
  }
}
