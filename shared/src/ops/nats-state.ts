import type { NatsConnection } from 'nats';

/**
 * Whether a NATS connection is usable right now, from its status events: false from a disconnect until the
 * reconnect (publishes in between are lost), and for good once it closed. Read by /readyz and by the ingress,
 * which answers `fabric_unavailable` at once instead of waiting for an Ack that cannot come.
 */
export class NatsState {
  private connected: boolean;

  constructor(readonly nc: NatsConnection) {
    this.connected = !nc.isClosed();
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') this.connected = false;
        else if (s.type === 'reconnect') this.connected = true;
      }
    })();
    void nc.closed().then(() => (this.connected = false));
  }

  get up(): boolean {
    return this.connected && !this.nc.isClosed();
  }
}
