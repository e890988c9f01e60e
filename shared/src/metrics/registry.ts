import { Gauge, Registry, collectDefaultMetrics, type CounterConfiguration, type GaugeConfiguration, type HistogramConfiguration } from 'prom-client';
import { SeriesCounter } from './series-counter.js';
import { SeriesHistogram } from './series-histogram.js';
import { TOKIOS_VERSION } from '../index.js';

export type { Counter, Gauge, Histogram } from 'prom-client';

/** Latency buckets in seconds: a fast answer (ms) to a long generation (minutes). */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/**
 * How often the event-loop delay monitor samples (prom-client's default is 10 ms): its timer wakes an idle process
 * that often — 100 wake-ups a second in every process, a connector beside a model server included. A stall long
 * enough to matter (tens of ms) still shows in nodejs_eventloop_lag_*; shorter ones are sampled less often.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;
/** Waits that are usually near zero (queueing for a connector slot, first byte from a warm model). */
export const WAIT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * One process's Prometheus registry (prom-client). Every tier in the process registers its metrics here (in
 * `tokios dev` ingress, terminator and control share one), and `/metrics` renders it. Metric names are
 * `tokios_<tier>_…`; labels are bounded sets of our own values (protocols, statuses, error codes, deployment ids
 * capped by BoundedLabel), never a key, a prompt or anything a caller chose freely.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly services = new Set<string>();
  private readonly info: Gauge<'service' | 'version' | 'id'>;
  private readonly shared = new Map<string, unknown>();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    // Process CPU, memory, event-loop lag, GC: what tells an overloaded replica from a slow model.
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    this.info = this.gauge({ name: 'tokios_build_info', help: 'Always 1: which Tokios service (and its instance id) this process runs.', labelNames: ['service', 'version', 'id'] });
  }

  /** Says which service runs here (and its id: ingress, terminator, connector id), as tokios_build_info. */
  announce(service: string, id = ''): void {
    const key = `${service}\0${id}`;
    if (this.services.has(key)) return;
    this.services.add(key);
    this.info.set({ service, version: TOKIOS_VERSION, id }, 1);
  }

  /** A prom-client counter whose label children cost no hashing per increment (series-counter.ts). */
  counter<L extends string>(cfg: Omit<CounterConfiguration<L>, 'registers' | 'collect' | 'enableExemplars'> & { collect?: (this: SeriesCounter<L>) => void | Promise<void> }): SeriesCounter<L> {
    return new SeriesCounter({ ...cfg, registers: [this.registry] });
  }

  gauge<L extends string>(cfg: Omit<GaugeConfiguration<L>, 'registers'>): Gauge<L> {
    return new Gauge({ ...cfg, registers: [this.registry] });
  }

  /** A prom-client histogram whose label children cost no hashing per observation (series-histogram.ts). */
  histogram<L extends string>(cfg: Omit<HistogramConfiguration<L>, 'registers' | 'collect' | 'enableExemplars'> & { buckets: number[] }): SeriesHistogram<L> {
    return new SeriesHistogram({ ...cfg, registers: [this.registry] });
  }

  /**
   * One instance per registry of a metric set several parts of a process share (the NATS connection metrics of
   * the three tiers in `tokios dev`): registering a name twice would throw.
   */
  once<T>(key: string, make: () => T): T {
    if (!this.shared.has(key)) this.shared.set(key, make());
    return this.shared.get(key) as T;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
