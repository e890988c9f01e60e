/**
 * How long an Ack may wait for the connector's first answer frame. Far below any sane ingress ack timeout
 * (default 1 s, minimum 50 ms), so failure detection is unchanged.
 */
export const ACK_DEFER_MS = 10;

/** A stream whose Ack is held back: publishes it when told to (at once if it already went with an answer frame, nothing). */
export interface DeferredAck {
  flushAck(): void;
}

/**
 * Deferred Acks. The ingress only needs the Ack to know the request was taken (and where to send body parts);
 * a fast answer (a short completion, a Reject, an Error) usually comes back within a few ms, and publishing the
 * Ack right before it lets both leave in one socket write and reach the ingress in one wake-up instead of two.
 * Requests whose body is still to come get their Ack at once (the stream does not add them). One shared timer
 * flushes the Acks still waiting.
 */
export class AckBatcher {
  private readonly waiting = new Set<DeferredAck>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deferMs = ACK_DEFER_MS) {}

  add(s: DeferredAck): void {
    this.waiting.add(s);
    this.timer ??= setTimeout(() => this.flush(), this.deferMs);
  }

  /**
   * The Ack left with an answer frame (or the stream ended). The last one out disarms the timer: a quick answer is
   * the common case, and a timer that fires for nothing is a wake-up of this process per ACK_DEFER_MS.
   */
  delete(s: DeferredAck): void {
    if (!this.waiting.delete(s) || this.waiting.size > 0 || this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Whether the timer is armed (tests). */
  get armed(): boolean {
    return this.timer !== undefined;
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = [...this.waiting];
    this.waiting.clear();
    for (const s of now) s.flushAck();
  }

  close(): void {
    this.flush();
  }
}
