import { Counter, type CounterConfiguration, type IncreaseDataWithExemplar } from 'prom-client';
import { SeriesLabels, SeriesTable, type Labels } from './series-labels.js';

/** One label combination of a SeriesCounter. */
export class CounterSeries<L extends string = string> {
  value = 0;
  /** Shown at scrape time; false after reset() or remove() until the next increment (prom-client drops the series). */
  listed = false;

  constructor(
    readonly labels: Labels<L>,
    private readonly owner: SeriesCounter<L>,
  ) {}

  /** prom-client's checks, in its order: a non-finite truthy value and a negative one are refused; none means 1. */
  inc(value?: number): void {
    if (value && !Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    if (value !== undefined && value < 0) throw new Error('It is not possible to decrease a counter');
    this.value += value ?? 1;
    if (!this.listed) this.owner.list(this);
  }
}

/**
 * A prom-client Counter (same registry, name, help, labels, collect and output) whose label children are plain
 * numbers: prom-client's child re-hashes and re-checks its label object on every increment. See SeriesHistogram;
 * series-counter.test checks the output against prom-client's for the same calls.
 */
export class SeriesCounter<L extends string = string> extends Counter<L> {
  private readonly labelSet: SeriesLabels<L>;
  private readonly collectFn: ((this: SeriesCounter<L>) => void | Promise<void>) | undefined;
  private series!: SeriesTable<L, CounterSeries<L>>;
  private shown!: CounterSeries<L>[];

  constructor(cfg: Omit<CounterConfiguration<L>, 'collect' | 'enableExemplars'> & { collect?: (this: SeriesCounter<L>) => void | Promise<void> }) {
    // prom-client keeps collect too, but its get() is replaced here: this class calls it.
    const { collect, ...rest } = cfg;
    super(rest);
    this.labelSet = new SeriesLabels(cfg.labelNames);
    this.collectFn = collect;
    // prom-client's constructor sets inc on the instance, which would shadow the method.
    this.inc = SeriesCounter.prototype.inc;
    this.series = new SeriesTable(this.labelSet);
    this.shown = [];
    this.reset();
  }

  override inc(labels: Labels<L>, value?: number): void;
  override inc(value?: number): void;
  /** Typed for prom-client's exemplar form; with exemplars off (always, here) prom-client reads the object as labels too. */
  override inc(data: IncreaseDataWithExemplar<L>): void;
  override inc(labelsOrValue?: Labels<L> | number | IncreaseDataWithExemplar<L> | null, value?: number): void {
    if (typeof labelsOrValue === 'object' && labelsOrValue !== null) return this.seriesOf(labelsOrValue as Labels<L>).inc(value ?? undefined);
    this.seriesOf({}).inc(labelsOrValue ?? undefined);
  }

  override labels(...values: string[]): CounterSeries<L>;
  override labels(labels: Labels<L>): CounterSeries<L>;
  override labels(...args: (string | Labels<L>)[]): CounterSeries<L> {
    return this.seriesOf(this.labelSet.fromArgs(args));
  }

  override remove(...values: string[]): void;
  override remove(labels: Labels<L>): void;
  override remove(...args: (string | Labels<L>)[]): void {
    const series = this.seriesOf(this.labelSet.fromArgs(args));
    if (!series.listed) return;
    this.hide(series);
    this.shown = this.shown.filter((s) => s !== series);
  }

  override reset(): void {
    // prom-client's own series stay empty (get() reads only these), but its get() needs them set.
    super.reset();
    // Called by prom-client's constructor too, before this class's fields are set.
    if (this.shown === undefined) return;
    for (const series of this.shown) this.hide(series);
    this.shown = [];
    // Like prom-client: a counter without labels shows 0 from the start and after a reset.
    if (this.labelSet.names.length === 0) this.list(this.seriesOf({}));
  }

  /** A series incremented for the first time (or again after reset/remove) goes to the end, as in prom-client. */
  list(series: CounterSeries<L>): void {
    series.listed = true;
    this.shown.push(series);
  }

  override async get(): ReturnType<Counter<L>['get']> {
    if (this.collectFn) await this.collectFn.call(this);
    // prom-client's own fields (name, help, type, aggregator), with the values of these series.
    const own = await super.get();
    return { ...own, values: this.shown.map((s) => ({ value: s.value, labels: s.labels })) };
  }

  private hide(series: CounterSeries<L>): void {
    series.listed = false;
    series.value = 0;
  }

  private seriesOf(labels: Labels<L>): CounterSeries<L> {
    return this.series.of(labels, (l) => new CounterSeries(l, this));
  }
}
