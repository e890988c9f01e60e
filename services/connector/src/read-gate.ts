
/** How often a stream paused for a full tunnel looks whether the tunnel has drained. */
const TUNNEL_CHECK_MS = 5;

/** What the gate stops and restarts: the model server's answer (an UpstreamCall; any Readable does too). */
export interface Pausable {
  pause(): unknown;
  resume(): unknown;
}

/**
 * Whether one request's answer from the model server is read. Two things stop the reading, each on its own: this
 * tunnel's send buffer is full (the terminator is slow), or the caller stopped reading (a Pause from the gateway,
 * held for a lease that the ingress renews while it lasts). The answer is read again only when neither holds. A
 * paused response stops reading its socket, so TCP backpressure reaches the model server; other requests on the
 * same tunnel have their own gate and keep flowing.
 */
export class ReadGate {
  private res: Pausable | undefined;
  private tunnelFull = false;
  private leaseTimer: NodeJS.Timeout | undefined;
  private closed = false;

  /** `expired`: a lease ran out without being renewed or released (a lost Unpause, or a gateway gone quiet). */
  constructor(private readonly expired: () => void) {}

  /** The model server's answer; paused at once when the caller is held already. */
  attach(res: Pausable): void {
    this.res = res;
    if (this.held) res.pause();
  }

  get held(): boolean {
    return this.leaseTimer !== undefined;
  }

  /** Holds the answer for `ms` (a renewal replaces the lease). True when it was not held before. */
  hold(ms: number): boolean {
    if (this.closed) return false;
    const was = this.held;
    clearTimeout(this.leaseTimer);
    this.leaseTimer = setTimeout(() => {
      this.leaseTimer = undefined;
      this.open();
      this.expired();
    }, ms);
    this.res?.pause();
    return !was;
  }

  /** Ends the caller's hold. True when it was held. */
  release(): boolean {
    if (!this.held) return false;
    clearTimeout(this.leaseTimer);
    this.leaseTimer = undefined;
    this.open();
    return true;
  }

  /** The tunnel's send buffer passed its high-water mark: pause until it is under half of it. */
  waitForTunnel(buffered: () => number, highWater: number): void {
    if (this.tunnelFull || this.closed || !this.res) return;
    this.tunnelFull = true;
    this.res.pause();
    const check = (): void => {
      if (this.closed) return;
      if (buffered() > highWater / 2) setTimeout(check, TUNNEL_CHECK_MS);
      else {
        this.tunnelFull = false;
        this.open();
      }
    };
    setTimeout(check, TUNNEL_CHECK_MS);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.leaseTimer);
    this.leaseTimer = undefined;
  }

  private open(): void {
    if (!this.closed && !this.tunnelFull && !this.held) this.res?.resume();
  }
}
