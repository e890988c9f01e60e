import { LATENCY_BUCKETS, WAIT_BUCKETS, type Counter, type Gauge, type Histogram, type Metrics } from '@tokios/shared/metrics';
import type { CallerProtocol, RejectReason } from '@tokios/shared/protocol';

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

/** What one deployment's connector shows in the gauges. */
export interface DeploymentGauges {
  inFlight(): number;
  tunnelsUp(): number;
  tunnels: number;
  healthy(): boolean;
  draining(): boolean;
}

type Labels<L extends string> = Partial<Record<L, string | number>>;

/**
 * The connector's metric families, registered once per registry: a `tokios connector` process with several
 * `deployments` has one Connector per deployment and one /metrics, so every family carries a `deployment` label (the
 * entry's position in tokios.json, "0" in the single-deployment form: bounded by the config) and the gauges collect
 * from every deployment.
 */
class ConnectorFamilies {
  readonly requests: Counter<'deployment' | 'protocol' | 'outcome'>;
  readonly upstreamErrors: Counter<'deployment' | 'kind'>;
  readonly duration: Histogram<'deployment' | 'protocol'>;
  readonly firstByteTime: Histogram<'deployment' | 'protocol'>;
  readonly tunnelDisconnects: Counter<'deployment'>;
  readonly deploymentInfo: Gauge<'deployment' | 'deployment_id'>;
  readonly sources = new Map<string, DeploymentGauges>();

  constructor(metrics: Metrics) {
    const sources = this.sources;
    const each = (fn: (labels: Labels<'deployment'>, s: DeploymentGauges) => void): void => {
      for (const [deployment, s] of sources) fn({ deployment }, s);
    };
    this.requests = metrics.counter({
      name: 'tokios_connector_requests_total',
      help: 'Requests by deployment, caller protocol and outcome: ok, an error code, cancelled, rejected (model server unreachable), or refused before any work: busy (at max_concurrency), draining, unhealthy.',
      labelNames: ['deployment', 'protocol', 'outcome'],
    });
    this.upstreamErrors = metrics.counter({
      name: 'tokios_connector_upstream_errors_total',
      help: 'Model server failures: unreachable (connection refused), http_4xx / http_5xx answers, stream (broken mid-answer or an error event in it), timeout (request deadline).',
      labelNames: ['deployment', 'kind'],
    });
    this.duration = metrics.histogram({ name: 'tokios_connector_request_duration_seconds', help: 'Whole request time at the connector (model server call included).', labelNames: ['deployment', 'protocol'], buckets: LATENCY_BUCKETS });
    this.firstByteTime = metrics.histogram({ name: 'tokios_connector_upstream_first_byte_seconds', help: 'Time until the model server answered with its response head.', labelNames: ['deployment', 'protocol'], buckets: WAIT_BUCKETS });
    this.tunnelDisconnects = metrics.counter({ name: 'tokios_connector_tunnel_disconnects_total', help: 'Tunnels that closed and are being redialled.', labelNames: ['deployment'] });
    this.deploymentInfo = metrics.gauge({ name: 'tokios_connector_deployment_info', help: 'Always 1: the deployment id a `deployment` label stands for (from the terminator\'s Welcome).', labelNames: ['deployment', 'deployment_id'] });
    metrics.gauge({ name: 'tokios_connector_in_flight', help: 'Requests being served now.', labelNames: ['deployment'], collect() { each((l, s) => this.set(l, s.inFlight())); } });
    metrics.gauge({
      name: 'tokios_connector_tunnels',
      help: 'Tunnels to terminators: up (Welcome received) or down (dialling).',
      labelNames: ['deployment', 'state'],
      collect() {
        each((l, s) => {
          const up = s.tunnelsUp();
          this.set({ ...l, state: 'up' }, up);
          this.set({ ...l, state: 'down' }, s.tunnels - up);
        });
      },
    });
    metrics.gauge({ name: 'tokios_connector_upstream_healthy', help: '1 while the model server passes its health check.', labelNames: ['deployment'], collect() { each((l, s) => this.set(l, s.healthy() ? 1 : 0)); } });
    metrics.gauge({ name: 'tokios_connector_draining', help: '1 once the connector drains (SIGTERM).', labelNames: ['deployment'], collect() { each((l, s) => this.set(l, s.draining() ? 1 : 0)); } });
  }
}

/**
 * One protocol's series of one deployment. A series stays the same object when it is reset or removed (it is shown
 * again at its next count), so holding it is safe. Outcomes are bounded: ok, cancelled, rejected, the error codes.
 */
interface ProtocolSeries {
  requests: Map<string, Counter.Internal>;
  duration: Histogram.Internal<'deployment' | 'protocol'>;
  firstByte: Histogram.Internal<'deployment' | 'protocol'>;
}

/** One deployment's view of the connector metrics (docs/operations.md), served on TOKIOS_METRICS_PORT when it is set. */
export class ConnectorMetrics implements RequestObserver {
  private readonly families: ConnectorFamilies;
  private deploymentId: string | undefined;
  private readonly byProtocol = new Map<CallerProtocol, ProtocolSeries>();

  constructor(
    metrics: Metrics,
    source: DeploymentGauges,
    /** The deployment's position in tokios.json (`deployments`), "0" for the single-deployment form. */
    private readonly deployment = '0',
  ) {
    this.families = metrics.once('connector-metrics', () => new ConnectorFamilies(metrics));
    this.families.sources.set(deployment, source);
    for (const kind of UPSTREAM_ERROR_KINDS) this.families.upstreamErrors.inc({ deployment, kind }, 0);
  }

  requestDone(protocol: CallerProtocol, outcome: string, ms: number): void {
    const series = this.seriesOf(protocol);
    let requests = series.requests.get(outcome);
    if (requests === undefined) series.requests.set(outcome, (requests = this.families.requests.labels({ deployment: this.deployment, protocol, outcome })));
    requests.inc();
    series.duration.observe(ms / 1000);
  }

  /** A request refused before any work (at its cap, draining, model server down): counted, never started. */
  refused(protocol: CallerProtocol, reason: Exclude<RejectReason, 'unavailable'>): void {
    this.families.requests.inc({ deployment: this.deployment, protocol, outcome: reason });
  }

  upstreamError(kind: UpstreamErrorKind): void {
    this.families.upstreamErrors.inc({ deployment: this.deployment, kind });
  }

  firstByte(protocol: CallerProtocol, ms: number): void {
    this.seriesOf(protocol).firstByte.observe(ms / 1000);
  }

  /** The series a request of `protocol` counts in, found once: no label object, signature and lookup per request. */
  private seriesOf(protocol: CallerProtocol): ProtocolSeries {
    let series = this.byProtocol.get(protocol);
    if (series === undefined) {
      const labels = { deployment: this.deployment, protocol };
      series = { requests: new Map(), duration: this.families.duration.labels(labels), firstByte: this.families.firstByteTime.labels(labels) };
      this.byProtocol.set(protocol, series);
    }
    return series;
  }

  tunnelDisconnect(): void {
    this.families.tunnelDisconnects.inc({ deployment: this.deployment });
  }

  /** The deployment id this label stands for, from a Welcome (one series per label: a new id replaces the old). */
  welcomed(deploymentId: string): void {
    if (deploymentId === this.deploymentId) return;
    if (this.deploymentId !== undefined) this.families.deploymentInfo.remove({ deployment: this.deployment, deployment_id: this.deploymentId });
    this.deploymentId = deploymentId;
    this.families.deploymentInfo.set({ deployment: this.deployment, deployment_id: deploymentId }, 1);
  }
}
