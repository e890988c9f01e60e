import type { Counter, Metrics } from '@tokios/shared/metrics';
import type { TunnelRegistry } from './registry.js';
import type { RelayResult } from './relay.js';
import type { Tunnel } from './tunnel.js';

/** Why a tunnel upgrade was refused (metrics label). */
export type UpgradeRefusal = 'unauthorized' | 'not_found' | 'shutting_down' | 'store_unavailable' | 'rate_limited';

/** What the terminator's parts report (docs/operations.md); gauges are read from the registry at scrape time. */
export interface TerminatorObserver {
  streamDone(result: RelayResult): void;
  tunnelOpened(): void;
  tunnelClosed(): void;
  upgradeRefused(why: UpgradeRefusal): void;
}

export class TerminatorMetrics implements TerminatorObserver {
  private readonly streams: Counter<'result'>;
  private readonly opened: Counter;
  private readonly closed: Counter;
  private readonly refused: Counter<'reason'>;
  private readonly byResult: Record<RelayResult, ReturnType<Counter<'result'>['labels']>>;

  constructor(metrics: Metrics, source: { registry: TunnelRegistry<Tunnel>; streams(): number; deployments(): number }) {
    this.streams = metrics.counter({ name: 'tokios_terminator_streams_total', help: 'Requests relayed by this terminator, by how they ended: ok, error, cancelled, rejected (no free connector here: placed elsewhere).', labelNames: ['result'] });
    this.byResult = { ok: this.streams.labels('ok'), error: this.streams.labels('error'), cancelled: this.streams.labels('cancelled'), rejected: this.streams.labels('rejected') };
    this.opened = metrics.counter({ name: 'tokios_terminator_tunnels_opened_total', help: 'Connector tunnels established (after a valid Hello).' });
    this.closed = metrics.counter({ name: 'tokios_terminator_tunnels_closed_total', help: 'Connector tunnels closed, for any reason.' });
    this.refused = metrics.counter({ name: 'tokios_terminator_tunnel_upgrades_refused_total', help: 'Tunnel upgrades refused: unauthorized (bad or revoked token), not_found (not a tunnel path), shutting_down, store_unavailable.', labelNames: ['reason'] });
    for (const reason of ['unauthorized', 'not_found', 'shutting_down', 'store_unavailable']) this.refused.inc({ reason }, 0);
    metrics.gauge({
      name: 'tokios_terminator_tunnels',
      help: 'Connector tunnels held now: routable (healthy, not draining) or not.',
      labelNames: ['state'],
      collect() {
        let routable = 0;
        let other = 0;
        for (const t of source.registry.tunnels()) {
          if (t.routable) routable++;
          else other++;
        }
        this.set({ state: 'routable' }, routable);
        this.set({ state: 'unroutable' }, other);
      },
    });
    metrics.gauge({ name: 'tokios_terminator_streams', help: 'Requests being relayed now.', collect() { this.set(source.streams()); } });
    metrics.gauge({ name: 'tokios_terminator_deployments', help: 'Deployments this terminator serves now (request subjects subscribed).', collect() { this.set(source.deployments()); } });
  }

  streamDone(result: RelayResult): void {
    this.byResult[result].inc();
  }

  tunnelOpened(): void {
    this.opened.inc();
  }

  tunnelClosed(): void {
    this.closed.inc();
  }

  upgradeRefused(why: UpgradeRefusal): void {
    this.refused.inc({ reason: why });
  }
}
