/** A label set as prom-client takes it. */
export type Labels<L extends string> = Partial<Record<L, string | number>>;

/**
 * The label bookkeeping prom-client does per call, done once per series by SeriesHistogram and SeriesCounter:
 * its checks and messages, and its series identity (sorted names, undefined values left out).
 */
export class SeriesLabels<L extends string> {
  readonly names: readonly L[];
  private readonly sorted: readonly L[];

  constructor(names: readonly L[] | undefined) {
    this.names = [...(names ?? [])];
    this.sorted = [...this.names].sort();
  }

  /** prom-client's getLabels: an object as given, or positional values (exactly one per label name). */
  fromArgs(args: readonly (string | Labels<L>)[]): Labels<L> {
    const [first] = args;
    if (typeof first === 'object') return first;
    if (args.length !== this.names.length) {
      throw new Error(`Invalid number of arguments (${args.length}): "${args.join(', ')}" for label names (${this.names.length}): "${this.names.join(', ')}".`);
    }
    const labels: Labels<L> = {};
    this.names.forEach((n, i) => (labels[n] = args[i] as string));
    return labels;
  }

  /** prom-client's validateLabel. */
  check(labels: Labels<L>): void {
    for (const k of Object.keys(labels)) {
      if (!this.names.includes(k as L)) throw new Error(`Added label "${k}" is not included in initial labelset: ${JSON.stringify(this.names)}`);
    }
  }

  /** prom-client's hashObject: which series a label set names. */
  signature(labels: Labels<L>): string {
    let s = '';
    for (const n of this.sorted) if (labels[n] !== undefined) s += `${n}:${labels[n]},`;
    return s;
  }
}

/** The series of one metric by label set: made on first use, found by prom-client's signature after that. */
export class SeriesTable<L extends string, S> {
  private readonly bySignature = new Map<string, S>();

  constructor(private readonly labelSet: SeriesLabels<L>) {}

  of(labels: Labels<L>, make: (labels: Labels<L>) => S): S {
    this.labelSet.check(labels);
    const signature = this.labelSet.signature(labels);
    let series = this.bySignature.get(signature);
    if (!series) this.bySignature.set(signature, (series = make({ ...labels })));
    return series;
  }
}
