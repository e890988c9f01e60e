export { Metrics, EVENT_LOOP_SAMPLE_MS, LATENCY_BUCKETS, WAIT_BUCKETS, type Counter, type Gauge, type Histogram } from './registry.js';
export { BoundedLabel, OTHER_LABEL } from './bounded.js';
export { watchNatsMetrics } from './nats.js';
export { SeriesHistogram, HistogramSeries } from './series-histogram.js';
export { SeriesCounter, CounterSeries } from './series-counter.js';
