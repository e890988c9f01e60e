import { FrameKind, TUNNEL_SILENT_PINGS, encodeFrame } from '@tokios/shared/protocol';

/**
 * One tunnel's liveness: a Ping every period the Welcome set, the tunnel given up when the terminator was silent for
 * TUNNEL_SILENT_PINGS periods, and barriers (a numbered Ping whose Pong proves every earlier frame was handled).
 */
export class TunnelKeepalive {
  private timer: NodeJS.Timeout | undefined;
  private lastSeen = 0;
  private nextPingId = 1;
  private readonly pongWaiters = new Map<number, () => void>();

  constructor(
    /** Sends a frame on the tunnel; false when the socket is not open. */
    private readonly send: (frame: Buffer) => boolean,
    /** The terminator stopped answering: the socket is to be dropped. */
    private readonly silent: () => void,
  ) {}

  /** Anything came from the terminator. */
  seen(): void {
    this.lastSeen = Date.now();
  }

  /** Pings every `pingMs` (the Welcome's period) until stopped. */
  start(pingMs: number): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      if (Date.now() - this.lastSeen > pingMs * TUNNEL_SILENT_PINGS) return this.silent();
      this.send(encodeFrame(FrameKind.Ping, 0));
    }, pingMs);
    this.timer.unref();
  }

  /** A Pong came: the barrier waiting for it, if any, is passed. */
  pong(id: number): void {
    this.pongWaiters.get(id)?.();
  }

  /**
   * Resolves once the terminator has handled every frame sent before this call: it answers Pings in order, so any
   * Request it sent before handling (say) a draining Status has arrived by then. Resolves anyway on close or timeout.
   */
  barrier(timeoutMs: number): Promise<void> {
    const id = this.nextPingId;
    this.nextPingId = this.nextPingId >= 0x7fffffff ? 1 : this.nextPingId + 1;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.pongWaiters.delete(id);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.pongWaiters.set(id, done);
      if (!this.send(encodeFrame(FrameKind.Ping, id))) done();
    });
  }

  /** No more Pings (barriers still wait for their Pong or timeout). */
  stop(): void {
    clearInterval(this.timer);
  }

  /** The socket closed: no more Pings, and every barrier is passed (nothing more will come on it). */
  closed(): void {
    this.stop();
    for (const done of [...this.pongWaiters.values()]) done();
  }
}
