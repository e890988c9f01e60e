import { LATENCY_BUCKETS, WAIT_BUCKETS, type Counter, type Histogram, type Metrics } from '@tokios/shared/metrics';
import type { CallerProtocol } from '@tokios/shared/protocol';

/** What went wrong talking to the model server (metrics label). */
export type UpstreamErrorKind = 'unreachable' | 'http_4xx' | 'http_5xx' | 'stream' | 'timeout';
const UPSTREAM_ERROR_KINDS: readonly UpstreamErrorKind[] = ['unreachable', 'http_4xx', 'http_5xx', 'stream', 'timeout'];

/** What the connector's requests report (ActiveRequest). */
export interface RequestObserver {
  /** `outcome`: ok, an error registry code, rejected or cancelled. */
  requestDone(protocol: CallerProtocol, outcome: string, ms: number): void;
  upstreamError(kind: UpstreamErrorKind): void;
  /** Time from sending the request to the model server to its response head. */
  firstByte(protocol: CallerProtocol, ms: number): void;
}

/** The connector's metrics (docs/operations.md), served on TOKIOS_METRICS_PORT when it is set. */
export class ConnectorMetrics implements RequestObserver {
  private readonly requests: Counter<'protocol' | 'outcome'>;
  private readonly upstreamErrors: Counter<'kind'>;
  private readonly duration: Histogram<'protocol'>;
  private readonly firstByteTime: Histogram<'protocol'>;
  readonly tunnelDisconnects: Counter;

  constructor(metrics: Metrics, source: { inFlight(): number; tunnelsUp(): number; tunnels: number; healthy(): boolean; draining(): boolean }) {
    this.requests = metrics.counter({ name: 'tokios_connector_requests_total', help: 'Requests served, by caller protocol and outcome (ok, an error code, rejected, cancelled).', labelNames: ['protocol', 'outcome'] });
    this.upstreamErrors = metrics.counter({
      name: 'tokios_connector_upstream_errors_total',
      help: 'Model server failures: unreachable (connection refused), http_4xx / http_5xx answers, stream (broken mid-answer), timeout (request deadline).',
      labelNames: ['kind'],
    });
    for (const kind of UPSTREAM_ERROR_KINDS) this.upstreamErrors.inc({ kind }, 0);
    this.duration = metrics.histogram({ name: 'tokios_connector_request_duration_seconds', help: 'Whole request time at the connector (model server call included).', labelNames: ['protocol'], buckets: LATENCY_BUCKETS });
    this.firstByteTime = metrics.histogram({ name: 'tokios_connector_upstream_first_byte_seconds', help: 'Time until the model server answered with its response head.', labelNames: ['protocol'], buckets: WAIT_BUCKETS });
    this.tunnelDisconnects = metrics.counter({ name: 'tokios_connector_tunnel_disconnects_total', help: 'Tunnels that closed and are being redialled.' });
    metrics.gauge({ name: 'tokios_connector_in_flight', help: 'Requests being served now.', collect() { this.set(source.inFlight()); } });
    metrics.gauge({
      name: 'tokios_connector_tunnels',
      help: 'Tunnels to terminators: up (Welcome received) or down (dialling).',
      labelNames: ['state'],
      collect() {
        const up = source.tunnelsUp();
        this.set({ state: 'up' }, up);
        this.set({ state: 'down' }, source.tunnels - up);
      },
    });
    metrics.gauge({ name: 'tokios_connector_upstream_healthy', help: '1 while the model server passes its health check.', collect() { this.set(source.healthy() ? 1 : 0); } });
    metrics.gauge({ name: 'tokios_connector_draining', help: '1 once the connector drains (SIGTERM).', collect() { this.set(source.draining() ? 1 : 0); } });
  }

  requestDone(protocol: CallerProtocol, outcome: string, ms: number): void {
    this.requests.inc({ protocol, outcome });
    this.duration.observe({ protocol }, ms / 1000);
  }

  upstreamError(kind: UpstreamErrorKind): void {
    this.upstreamErrors.inc({ kind });
  }

  firstByte(protocol: CallerProtocol, ms: number): void {
    this.firstByteTime.observe({ protocol }, ms / 1000);
  }
}
