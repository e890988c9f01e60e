import { Histogram, type HistogramConfiguration, type ObserveDataWithExemplar } from 'prom-client';
import { SeriesLabels, SeriesTable, type Labels } from './series-labels.js';

/** One label combination: per-bucket counts (not cumulative), sum and count, what prom-client keeps per series. */
export class HistogramSeries<L extends string = string> {
  readonly counts: number[];
  sum = 0;
  count = 0;
  /** Shown at scrape time; false after reset() or remove() until the next observation (prom-client drops the series). */
  listed = false;

  constructor(
    readonly labels: Labels<L>,
    private readonly owner: SeriesHistogram<L>,
  ) {
    this.counts = owner.bounds.map(() => 0);
  }

  /** prom-client's observe: the first bucket whose bound is >= value; a value past every bound counts in +Inf only. */
  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const bounds = this.owner.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    if (i < bounds.length) this.counts[i]!++;
    this.sum += value;
    this.count += 1;
    if (!this.listed) this.owner.list(this);
  }

  startTimer(): (labels?: Labels<L>) => number {
    return this.owner.startTimer(this.labels);
  }

  zero(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/**
 * A prom-client Histogram (same registry, names, help, labels and text output) whose label children are plain
 * counters: prom-client's own child re-hashes its label object and looks its series up by that string on every
 * observation, and indexes its buckets by number-to-string keys; here a child is its series, and an observation is a
 * bucket search and three additions. The scrape renders what prom-client's histogram renders for the same
 * observations (getForPromString, which prom-client's Registry and get() read; series-histogram.test checks it against prom-client).
 */
export class SeriesHistogram<L extends string = string> extends Histogram<L> {
  readonly bounds: readonly number[];
  /** The config's name, help and aggregator (prom-client's typings do not expose its own copies). */
  private readonly meta: { name: string; help: string; aggregator: string };
  private readonly labelSet: SeriesLabels<L>;
  private series!: SeriesTable<L, HistogramSeries<L>>;
  private shown!: HistogramSeries<L>[];

  constructor(cfg: Omit<HistogramConfiguration<L>, 'collect' | 'enableExemplars'> & { buckets: number[] }) {
    super(cfg);
    this.bounds = [...cfg.buckets];
    this.meta = { name: cfg.name, help: cfg.help, aggregator: cfg.aggregator ?? 'sum' };
    this.labelSet = new SeriesLabels(cfg.labelNames);
    // prom-client's constructor sets observe on the instance, which would shadow the method.
    this.observe = SeriesHistogram.prototype.observe;
    this.series = new SeriesTable(this.labelSet);
    this.shown = [];
    // Like prom-client: a histogram without labels shows its one series from the start.
    if (this.labelSet.names.length === 0) this.list(this.seriesOf({}));
  }

  override observe(value: number): void;
  override observe(labels: Labels<L>, value: number): void;
  /** Typed for prom-client's exemplar form; with exemplars off (always, here) prom-client reads the object as labels too. */
  override observe(data: ObserveDataWithExemplar<L>): void;
  override observe(labelsOrValue: Labels<L> | number | ObserveDataWithExemplar<L>, value?: number): void {
    if (typeof labelsOrValue === 'number') return this.seriesOf({}).observe(labelsOrValue);
    this.seriesOf(labelsOrValue as Labels<L>).observe(value ?? NaN);
  }

  override labels(...values: string[]): HistogramSeries<L>;
  override labels(labels: Labels<L>): HistogramSeries<L>;
  override labels(...args: (string | Labels<L>)[]): HistogramSeries<L> {
    return this.seriesOf(this.labelSet.fromArgs(args));
  }

  override startTimer(labels?: Labels<L>): (labels?: Labels<L>) => number {
    const start = process.hrtime();
    return (endLabels) => {
      const [s, ns] = process.hrtime(start);
      const seconds = s + ns / 1e9;
      this.observe({ ...labels, ...endLabels }, seconds);
      return seconds;
    };
  }

  override zero(labels: Labels<L>): void {
    const series = this.seriesOf(labels);
    series.zero();
    if (!series.listed) this.list(series);
  }

  override remove(...args: (string | Labels<L>)[]): void {
    this.unlist(this.seriesOf(this.labelSet.fromArgs(args)));
  }

  override reset(): void {
    // Called by prom-client's constructor too, before this class's fields are set.
    for (const series of this.shown ?? []) this.hide(series);
    this.shown = [];
  }

  /** A series observed for the first time (or again after reset/remove) goes to the end, as in prom-client. */
  list(series: HistogramSeries<L>): void {
    series.listed = true;
    this.shown.push(series);
  }

  /** What prom-client's Histogram.getForPromString returns: per series its buckets (cumulative), +Inf, sum, count. */
  async getForPromString(): Promise<{ name: string; help: string; type: 'histogram'; values: PromValue[]; aggregator: string }> {
    const values: PromValue[] = [];
    const { name, help, aggregator } = this.meta;
    const bucket = `${name}_bucket`;
    for (const s of this.shown) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.counts[i]!;
        values.push({ labels: { le: this.bounds[i]! }, sharedLabels: s.labels, value: acc, metricName: bucket, exemplar: null });
      }
      values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucket, exemplar: null });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${name}_sum`, exemplar: undefined });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${name}_count`, exemplar: undefined });
    }
    return { name, help, type: 'histogram', values, aggregator };
  }

  private unlist(series: HistogramSeries<L>): void {
    if (!series.listed) return;
    this.hide(series);
    this.shown = this.shown.filter((s) => s !== series);
  }

  private hide(series: HistogramSeries<L>): void {
    series.listed = false;
    series.zero();
  }

  /** The series of a label set, by prom-client's own signature (sorted names, undefined values left out). */
  private seriesOf(labels: Labels<L>): HistogramSeries<L> {
    return this.series.of(labels, (l) => new HistogramSeries(l, this));
  }
}

interface PromValue {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string | number | undefined>;
  value: number;
  metricName: string;
  exemplar: null | undefined;
}
