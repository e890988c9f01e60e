import { FrameKind, PAUSE_LEASE_MS, PAUSE_RENEW_MS, encodeFrame } from '@tokios/shared/protocol';

/**
 * One stream's flow control towards its connector, as the ingress keeps it. While the caller is not reading, the
 * connector holds the model's answer for a lease (Pause, PAUSE_LEASE_MS) that is renewed every PAUSE_RENEW_MS; an
 * Unpause ends it. Frames lost on NATS cannot wedge the stream: a lost Unpause ends with its lease, a lost renewal
 * is followed by the next one, and after a reconnect of this ingress the current state is sent again.
 */
export class PauseLease {
  /** Since when the caller has not read (0: it reads). */
  private pausedAt = 0;
  private sentAt = 0;
  private unpausedAt = 0;

  /** `send`: publishes a frame to the stream's terminator (dropped when there is no Ack yet). */
  constructor(private readonly send: (frame: Buffer) => void) {}

  get paused(): boolean {
    return this.pausedAt > 0;
  }

  pause(now: number): void {
    if (this.pausedAt > 0) return;
    this.pausedAt = now;
    this.sendPause(now);
  }

  unpause(now: number): void {
    if (this.pausedAt === 0) return;
    this.pausedAt = 0;
    this.unpausedAt = now;
    this.send(encodeFrame(FrameKind.Unpause, 0));
  }

  /** From the call's timer sweep: renews a lease that is due. */
  tick(now: number): void {
    if (this.pausedAt > 0 && now - this.sentAt >= PAUSE_RENEW_MS) this.sendPause(now);
  }

  /** What was sent while the link was down is lost: say again what holds now, if it may still matter. */
  reconnected(now: number): void {
    if (this.pausedAt > 0) this.sendPause(now);
    else if (this.unpausedAt > 0 && now - this.unpausedAt < PAUSE_LEASE_MS) this.send(encodeFrame(FrameKind.Unpause, 0));
  }

  private sendPause(now: number): void {
    this.sentAt = now;
    this.send(encodeFrame(FrameKind.Pause, 0, { ms: PAUSE_LEASE_MS }));
  }
}
