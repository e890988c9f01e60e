import t, { type Test } from 'tap';
import { Histogram, Registry } from 'prom-client';
import { LATENCY_BUCKETS, SeriesHistogram } from '../../src/metrics/index.js';

/** prom-client's own Histogram and a SeriesHistogram, same config, each in its own registry: fed alike, they must render alike. */
function pair(labelNames: string[], buckets = LATENCY_BUCKETS) {
  const cfg = { name: 'tokios_test_seconds', help: 'A test histogram.', labelNames, buckets };
  const theirs = new Registry();
  const ours = new Registry();
  return {
    prom: new Histogram({ ...cfg, registers: [theirs] }),
    series: new SeriesHistogram({ ...cfg, registers: [ours] }),
    async same(t: Test, what: string): Promise<void> {
      t.equal(await ours.metrics(), await theirs.metrics(), `${what}: the same text`);
      t.same(await ours.getMetricsAsJSON(), await theirs.getMetricsAsJSON(), `${what}: the same JSON`);
    },
  };
}

// A deterministic spread: on bounds, between them, past the last, zero, tiny and negative values.
const values = [0, 0.005, 0.0051, 0.01, 0.3, 1, 2.5, 299.9, 300, 300.1, 1e6, -1, 1e-9, ...Array.from({ length: 200 }, (_, i) => ((i * 7919) % 1000) / 137)];

t.test('labelled children: the same buckets, sums, counts and series order as prom-client', async (t) => {
  const h = pair(['protocol', 'deployment', 'stream']);
  await h.same(t, 'nothing observed');
  const combos: [string, string, string][] = [['openai.chat', 'dep_b', 'false'], ['anthropic.messages', 'dep_a', 'true'], ['openai.chat', 'dep_a', 'false']];
  const theirs = combos.map((c) => h.prom.labels(...c));
  const ours = combos.map((c) => h.series.labels(...c));
  values.forEach((v, i) => {
    theirs[i % 3]!.observe(v);
    ours[i % 3]!.observe(v);
  });
  await h.same(t, 'children');
  // The object forms, with labels in another key order (the signature is by sorted names, as prom-client's hash).
  h.prom.observe({ stream: 'false', deployment: 'dep_b', protocol: 'openai.chat' }, 0.2);
  h.series.observe({ stream: 'false', deployment: 'dep_b', protocol: 'openai.chat' }, 0.2);
  h.prom.observe({ protocol: 'openai.responses', deployment: 'dep_c', stream: 'true' }, 42);
  h.series.observe({ protocol: 'openai.responses', deployment: 'dep_c', stream: 'true' }, 42);
  await h.same(t, 'object forms');
  h.prom.zero({ protocol: 'x', deployment: 'y', stream: 'false' });
  h.series.zero({ protocol: 'x', deployment: 'y', stream: 'false' });
  await h.same(t, 'zero()');
  h.prom.remove('openai.chat', 'dep_b', 'false');
  h.series.remove('openai.chat', 'dep_b', 'false');
  await h.same(t, 'remove()');
  // A child kept across remove/reset shows its series again from its next observation, at the end.
  theirs[0]!.observe(0.07);
  ours[0]!.observe(0.07);
  await h.same(t, 'after remove, observed again');
  h.prom.reset();
  h.series.reset();
  await h.same(t, 'reset()');
  theirs[2]!.observe(3);
  ours[2]!.observe(3);
  theirs[1]!.observe(0.001);
  ours[1]!.observe(0.001);
  await h.same(t, 'after reset');
});

t.test('no labels, and what prom-client refuses', async (t) => {
  const h = pair([], [0.1, 1]);
  await h.same(t, 'the empty series from the start');
  for (const v of values) {
    h.prom.observe(v);
    h.series.observe(v);
  }
  await h.same(t, 'observed');
  const l = pair(['kind']);
  t.throws(() => l.series.observe({ kind: 'a' }, NaN), TypeError, 'NaN');
  t.throws(() => l.series.labels('a').observe(Infinity), TypeError, 'Infinity');
  t.throws(() => l.series.observe({ other: 'a' } as never, 1), /not included in initial labelset/, 'an unknown label');
  t.throws(() => l.series.labels('a', 'b'), /Invalid number of arguments/, 'too many values');
  t.throws(() => l.prom.observe({ kind: 'a' }, NaN), TypeError, "prom-client's NaN too");
  await l.same(t, 'nothing counted by the refused calls');
  const end = l.series.startTimer({ kind: 'timed' });
  t.ok(end() >= 0, 'startTimer observes seconds');
  t.match(await l.series.get(), { values: [{ metricName: 'tokios_test_seconds_bucket' }] });
});
