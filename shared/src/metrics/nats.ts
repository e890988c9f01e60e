import type { NatsConnection } from 'nats';
import type { Counter, Gauge } from 'prom-client';
import type { Metrics } from './registry.js';

interface NatsMetricSet {
  reconnects: Counter<'connection'>;
  disconnects: Counter<'connection'>;
  connected: Gauge<'connection'>;
}

/**
 * NATS connection health per connection (`connection` = the service's role: ingress, terminator, control;
 * `tokios dev` holds all three): reconnects, disconnects, and whether it is connected now.
 */
export function watchNatsMetrics(metrics: Metrics, nc: NatsConnection, connection: string): void {
  const m = metrics.once<NatsMetricSet>('nats', () => ({
    reconnects: metrics.counter({ name: 'tokios_nats_reconnects_total', help: 'NATS reconnections after a lost connection.', labelNames: ['connection'] }),
    disconnects: metrics.counter({ name: 'tokios_nats_disconnects_total', help: 'NATS connections lost.', labelNames: ['connection'] }),
    connected: metrics.gauge({ name: 'tokios_nats_connected', help: '1 while the NATS connection is up, 0 while it reconnects or after it closed.', labelNames: ['connection'] }),
  }));
  const labels = { connection };
  m.reconnects.inc(labels, 0);
  m.disconnects.inc(labels, 0);
  m.connected.set(labels, nc.isClosed() ? 0 : 1);
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        m.disconnects.inc(labels);
        m.connected.set(labels, 0);
      } else if (s.type === 'reconnect') {
        m.reconnects.inc(labels);
        m.connected.set(labels, 1);
      }
    }
  })();
  void nc.closed().then(() => m.connected.set(labels, 0));
}
