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
 * Requests whose body is still to come get their Ack at once (the stream does not add them).
 *
 * One shared timer, armed for the oldest waiting Ack's deadline. When it fires it publishes the Acks that waited at
 * least half the deferral (so Acks added close together still leave together, and the timer fires at most once per
 * half deferral) and is armed again for the oldest left: under steady load, an Ack that has just arrived is not sent
 * alone because an older one's time was up (each Ack waits between half and all of the deferral).
 */
export class AckBatcher {
  /** Waiting Acks and when each was added (ms), oldest first (a Map keeps insertion order). */
  private readonly waiting = new Map<DeferredAck, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deferMs = ACK_DEFER_MS,
    /** Milliseconds now (tests drive it). */
    private readonly clock: () => number = Date.now,
  ) {}

  add(s: DeferredAck): void {
    this.waiting.set(s, this.clock());
    this.timer ??= setTimeout(this.fire, this.deferMs);
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

  /** Publishes every waiting Ack now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = [...this.waiting.keys()];
    this.waiting.clear();
    for (const s of now) s.flushAck();
  }

  close(): void {
    this.flush();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = this.clock();
    const due = now - this.deferMs / 2;
    for (const [s, at] of this.waiting) {
      if (at > due) {
        this.timer = setTimeout(this.fire, Math.max(1, at + this.deferMs - now));
        return;
      }
      this.waiting.delete(s);
      s.flushAck();
    }
  };
}
