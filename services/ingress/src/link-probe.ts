import type { NatsConnection } from 'nats';

/**
 * How far behind this ingress's own NATS link is, as a PING and its PONG measure it: `confirmedAt` is when the last
 * answered PING was sent. NATS writes to one connection in order, so once that PONG is read, everything the server
 * had for us when it took the PING has been read too: a terminator nothing was read from between its last frame and
 * `confirmedAt` sent nothing the server had. Silence that the link has not yet confirmed may be the link's lag
 * (a slow consumer, a backlog in the server or the network), not the terminator's death (terminator-watch.ts).
 *
 * Probes only on demand (a stream's terminator half a stall timeout quiet), one PING at a time: nothing when every
 * terminator is heard from.
 */
export class LinkProbe {
  confirmedAt: number;
  private inFlight = false;

  constructor(
    private readonly nc: NatsConnection,
    /** Called when a PONG arrived (the stall check runs again at once rather than at the next sweep). */
    private readonly onConfirmed: () => void,
    now = Date.now(),
  ) {
    this.confirmedAt = now;
  }

  /** Sends a PING unless one is out already. */
  probe(now: number): void {
    if (this.inFlight) return;
    this.inFlight = true;
    this.nc.flush().then(
      () => {
        this.inFlight = false;
        if (now > this.confirmedAt) this.confirmedAt = now;
        this.onConfirmed();
      },
      () => {
        this.inFlight = false; // closed or reconnecting: the reconnect path takes over
      },
    );
  }
}
