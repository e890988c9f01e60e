import { BoundedLabel, LATENCY_BUCKETS, WAIT_BUCKETS, type Counter, type CounterSeries, type HistogramSeries, type Metrics, type SeriesCounter, type SeriesHistogram } from '@tokios/shared/metrics';
import type { CallerProtocol, RejectReason } from '@tokios/shared/protocol';
import type { UsageRecorder } from './usage/recorder.js';
import type { FabricObserver, FallbackReason } from './fabric.js';
import type { AffinityResult } from './affinity/placement.js';
import type { SessionHomes } from './affinity/homes.js';

/** Series per deployment are capped (BoundedLabel); past this, new deployments count as "other". */
export const DEFAULT_MAX_DEPLOYMENT_LABELS = 100;
/** Requests refused before a deployment was known (bad key, unknown model) carry this deployment label. */
export const NO_DEPLOYMENT = 'none';

/**
 * The series one deployment label's requests use, by protocol: found by two lookups on strings the caches already
 * hold (the deployment id, a protocol constant) and a status number, so no key string is built per request.
 */
interface DeploymentSeries {
  queueWait: HistogramSeries | undefined;
  byProtocol: Map<CallerProtocol, ProtocolSeries>;
}

interface ProtocolSeries {
  requests: Map<number, CounterSeries>;
  /** Request duration of non-streamed [0] and streamed [1] calls. */
  duration: [HistogramSeries | undefined, HistogramSeries | undefined];
  ttft: HistogramSeries | undefined;
}

/**
 * The ingress's metrics (documented in docs/operations.md). The per-request path costs a few map lookups and
 * increments: label children (plain series: SeriesCounter, SeriesHistogram) are created once per label combination
 * and kept (DeploymentSeries), so no label object is hashed per request; gauges and totals owned by other parts (in
 * flight, the usage backlog) are read only at scrape time.
 */
export class IngressMetrics implements FabricObserver {
  private active = 0;
  private readonly deployments: BoundedLabel;
  private readonly requests: SeriesCounter<'protocol' | 'deployment' | 'status'>;
  private readonly errors: SeriesCounter<'protocol' | 'code'>;
  private readonly duration: SeriesHistogram<'protocol' | 'deployment' | 'stream'>;
  private readonly ttft: SeriesHistogram<'protocol' | 'deployment'>;
  private readonly queueWait: SeriesHistogram<'deployment'>;
  private readonly rejects: Counter<'reason'>;
  private readonly fallbacks: Counter<'reason'>;
  private readonly rateLimited: Counter<'kind'>;
  private readonly ignored: Counter<'protocol' | 'field'>;
  private readonly pauses: Counter<string>;
  private readonly affinity: Record<AffinityResult, CounterSeries>;
  /** By deployment label (at most the BoundedLabel cap plus "other" and "none"). */
  private readonly series = new Map<string, DeploymentSeries>();
  /** Error counts by protocol, then error code (a registry code, or a bounded outcome). */
  private readonly errorSeries = new Map<CallerProtocol, Map<string, CounterSeries>>();

  constructor(metrics: Metrics, usage: UsageRecorder, maxDeployments = DEFAULT_MAX_DEPLOYMENT_LABELS, homes?: SessionHomes) {
    this.deployments = new BoundedLabel(maxDeployments);
    this.requests = metrics.counter({
      name: 'tokios_ingress_requests_total',
      help: 'API requests answered, by caller protocol, deployment id (capped; "none" before one was resolved) and HTTP status (499: the caller hung up).',
      labelNames: ['protocol', 'deployment', 'status'],
    });
    this.errors = metrics.counter({ name: 'tokios_ingress_errors_total', help: 'Failed API requests by error code (the error registry).', labelNames: ['protocol', 'code'] });
    this.duration = metrics.histogram({
      name: 'tokios_ingress_request_duration_seconds',
      help: 'Whole request time at the ingress, from arrival to the last byte (streams: until the stream ends).',
      labelNames: ['protocol', 'deployment', 'stream'],
      buckets: LATENCY_BUCKETS,
    });
    this.ttft = metrics.histogram({
      name: 'tokios_ingress_time_to_first_token_seconds',
      help: 'Streams only: time from arrival to the first answer bytes relayed to the caller.',
      labelNames: ['protocol', 'deployment'],
      buckets: LATENCY_BUCKETS,
    });
    this.queueWait = metrics.histogram({
      name: 'tokios_ingress_queue_wait_seconds',
      help: 'Time from the first publish of a request to the Ack of the terminator that placed it (includes waiting for a free connector).',
      labelNames: ['deployment'],
      buckets: WAIT_BUCKETS,
    });
    this.fallbacks = metrics.counter({
      name: 'tokios_ingress_alias_fallbacks_total',
      help: 'Calls through an alias moved to its next target before any answer byte, by why the previous one could not take it.',
      labelNames: ['reason'],
    });
    this.rejects = metrics.counter({ name: 'tokios_ingress_placement_rejects_total', help: 'Reject answers from terminators (busy, draining, unhealthy, unavailable); each is retried until the queue timeout.', labelNames: ['reason'] });
    this.rateLimited = metrics.counter({ name: 'tokios_ingress_rate_limited_total', help: 'Requests refused with 429 by a per-key limit.', labelNames: ['kind'] });
    this.ignored = metrics.counter({ name: 'tokios_ingress_ignored_fields_total', help: 'Request fields accepted and ignored (reported in the tokios-ignored header), by field name.', labelNames: ['protocol', 'field'] });
    this.pauses = metrics.counter({ name: 'tokios_ingress_stream_pauses_total', help: 'Streams paused at their connector because the caller stopped reading (TOKIOS_PAUSE_UNSENT_BYTES unsent).' });
    const self = this;
    metrics.gauge({
      name: 'tokios_ingress_in_flight',
      help: 'API requests being served now.',
      collect() {
        this.set(self.active);
      },
    });
    metrics.gauge({
      name: 'tokios_ingress_usage_buffered',
      help: 'Usage records waiting to be written to the store (the write backlog; grows while the store is down).',
      collect() {
        this.set(usage.buffered);
      },
    });
    // Totals kept by the recorder itself, exported as counters at scrape time.
    metrics.counter({
      name: 'tokios_ingress_usage_dropped_total',
      help: 'Usage records dropped because the backlog reached TOKIOS_USAGE_MAX_BUFFERED.',
      collect() {
        this.reset();
        this.inc(usage.stats.dropped);
      },
    });
    metrics.counter({
      name: 'tokios_ingress_usage_write_failures_total',
      help: 'Failed usage batch writes (each batch is kept and retried).',
      collect() {
        this.reset();
        this.inc(usage.stats.failedWrites);
      },
    });
    for (const kind of ['requests', 'tokens']) this.rateLimited.inc({ kind }, 0);
    const placed = metrics.counter({
      name: 'tokios_ingress_affinity_total',
      help: "Acked requests by where they landed: on their session's home connector, moved off it (gone, at its cap), a session's first placement, or no session key (or affinity off).",
      labelNames: ['result'],
    });
    this.affinity = { home: placed.labels('home'), moved: placed.labels('moved'), new: placed.labels('new'), none: placed.labels('none') };
    metrics.gauge({
      name: 'tokios_ingress_affinity_sessions',
      help: 'Session homes this replica knows (its own placements and those the other replicas told it).',
      collect() {
        this.set(homes?.size ?? 0);
      },
    });
    metrics.counter({
      name: 'tokios_ingress_affinity_learned_total',
      help: 'Session homes learned from the other ingress replicas (tokios.affinity.home).',
      collect() {
        this.reset();
        this.inc(homes?.stats.learned ?? 0);
      },
    });
  }

  placed(result: AffinityResult): void {
    this.affinity[result].inc();
  }

  /** A request entered the proxy. */
  begin(): void {
    this.active++;
  }

  /** The request proxied to `deploymentId` was answered (once per begin()). */
  done(protocol: CallerProtocol, deploymentId: string, status: number, errorCode: string | undefined, stream: boolean, ms: number, ttftMs: number | null): void {
    this.active--;
    const dep = this.deployments.of(deploymentId);
    const p = this.protocolSeries(dep, protocol);
    this.count(p, protocol, dep, status, errorCode);
    const i = stream ? 1 : 0;
    (p.duration[i] ??= this.duration.labels(protocol, dep, String(stream))).observe(ms / 1000);
    if (ttftMs !== null) (p.ttft ??= this.ttft.labels(protocol, dep)).observe(ttftMs / 1000);
  }

  /** Refused before it reached a deployment (auth, unknown model, bad body), or by a rate limit. */
  refused(protocol: CallerProtocol, deploymentId: string | undefined, status: number, errorCode: string): void {
    const dep = deploymentId === undefined ? NO_DEPLOYMENT : this.deployments.of(deploymentId);
    this.count(this.protocolSeries(dep, protocol), protocol, dep, status, errorCode);
  }

  /** A streaming caller stopped reading: its stream was paused at the connector. */
  paused(): void {
    this.pauses.inc();
  }

  limited(kind: 'requests' | 'tokens'): void {
    this.rateLimited.inc({ kind });
  }

  /** Fields the acceptance policy dropped from a request (names only, from the policy's own list). */
  ignoredFields(protocol: CallerProtocol, fields: readonly string[]): void {
    for (const field of fields) this.ignored.inc({ protocol, field });
  }

  acked(deploymentId: string, waitedMs: number): void {
    const dep = this.deployments.of(deploymentId);
    const d = this.deploymentSeries(dep);
    (d.queueWait ??= this.queueWait.labels(dep)).observe(waitedMs / 1000);
  }

  rejected(reason: RejectReason): void {
    this.rejects.inc({ reason });
  }

  fellBack(reason: FallbackReason): void {
    this.fallbacks.inc({ reason });
  }

  private deploymentSeries(dep: string): DeploymentSeries {
    let d = this.series.get(dep);
    if (!d) this.series.set(dep, (d = { queueWait: undefined, byProtocol: new Map() }));
    return d;
  }

  private protocolSeries(dep: string, protocol: CallerProtocol): ProtocolSeries {
    const d = this.deploymentSeries(dep);
    let p = d.byProtocol.get(protocol);
    if (!p) d.byProtocol.set(protocol, (p = { requests: new Map(), duration: [undefined, undefined], ttft: undefined }));
    return p;
  }

  private count(p: ProtocolSeries, protocol: CallerProtocol, dep: string, status: number, errorCode: string | undefined): void {
    let c = p.requests.get(status);
    if (!c) p.requests.set(status, (c = this.requests.labels(protocol, dep, String(status))));
    c.inc();
    if (errorCode !== undefined) {
      let byCode = this.errorSeries.get(protocol);
      if (!byCode) this.errorSeries.set(protocol, (byCode = new Map()));
      let e = byCode.get(errorCode);
      if (!e) byCode.set(errorCode, (e = this.errors.labels(protocol, errorCode)));
      e.inc();
    }
  }
}
