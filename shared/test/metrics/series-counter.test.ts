import t, { type Test } from 'tap';
import { Counter, Registry } from 'prom-client';
import { SeriesCounter } from '../../src/metrics/index.js';

/** prom-client's own Counter and a SeriesCounter, same config, each in its own registry: fed alike, they must render alike. */
function pair(labelNames: string[]) {
  const cfg = { name: 'tokios_test_total', help: 'A test counter.', labelNames };
  const theirs = new Registry();
  const ours = new Registry();
  return {
    prom: new Counter({ ...cfg, registers: [theirs] }),
    series: new SeriesCounter({ ...cfg, registers: [ours] }),
    async same(t: Test, what: string): Promise<void> {
      t.equal(await ours.metrics(), await theirs.metrics(), `${what}: the same text`);
      t.same(await ours.getMetricsAsJSON(), await theirs.getMetricsAsJSON(), `${what}: the same JSON`);
    },
  };
}

t.test('labelled children: the same values and series order as prom-client', async (t) => {
  const c = pair(['protocol', 'deployment', 'status']);
  await c.same(t, 'nothing counted');
  const combos: [string, string, string][] = [['openai.chat', 'dep_b', '200'], ['anthropic.messages', 'dep_a', '429'], ['openai.chat', 'dep_a', '200']];
  const theirs = combos.map((x) => c.prom.labels(...x));
  const ours = combos.map((x) => c.series.labels(...x));
  for (let i = 0; i < 100; i++) {
    theirs[i % 3]!.inc();
    ours[i % 3]!.inc();
    if (i % 7 === 0) {
      theirs[(i + 1) % 3]!.inc(2.5);
      ours[(i + 1) % 3]!.inc(2.5);
    }
  }
  await c.same(t, 'children');
  c.prom.inc({ status: '200', deployment: 'dep_b', protocol: 'openai.chat' });
  c.series.inc({ status: '200', deployment: 'dep_b', protocol: 'openai.chat' });
  c.prom.inc({ protocol: 'openai.responses', deployment: 'dep_c', status: '500' }, 0);
  c.series.inc({ protocol: 'openai.responses', deployment: 'dep_c', status: '500' }, 0);
  c.prom.inc({ protocol: 'x' }, 3);
  c.series.inc({ protocol: 'x' }, 3);
  await c.same(t, 'object forms, a zero increment, a partial label set');
  c.prom.remove('openai.chat', 'dep_b', '200');
  c.series.remove('openai.chat', 'dep_b', '200');
  await c.same(t, 'remove()');
  theirs[0]!.inc();
  ours[0]!.inc();
  await c.same(t, 'after remove, counted again');
  c.prom.reset();
  c.series.reset();
  await c.same(t, 'reset()');
  theirs[2]!.inc(4);
  ours[2]!.inc(4);
  await c.same(t, 'after reset');
});

t.test('no labels, collect, and what prom-client refuses', async (t) => {
  const c = pair([]);
  await c.same(t, '0 from the start');
  c.prom.inc();
  c.series.inc();
  c.prom.inc(41);
  c.series.inc(41);
  await c.same(t, 'counted');
  t.throws(() => c.series.inc(-1), /not possible to decrease/, 'a negative increment');
  t.throws(() => c.series.inc(Infinity), TypeError, 'Infinity');
  t.throws(() => c.series.labels('a'), /Invalid number of arguments/, 'a value without a label name');
  t.throws(() => c.prom.inc(-1), /not possible to decrease/, "prom-client's too");
  await c.same(t, 'nothing counted by the refused calls');

  let total = 0;
  const theirs = new Registry();
  const ours = new Registry();
  const cfg = { name: 'tokios_collected_total', help: 'Kept elsewhere, read at scrape time.' };
  new Counter({ ...cfg, registers: [theirs], collect() { this.reset(); this.inc(total); } });
  new SeriesCounter({ ...cfg, registers: [ours], collect() { this.reset(); this.inc(total); } });
  total = 7;
  t.equal(await ours.metrics(), await theirs.metrics(), 'collect runs at scrape time');
  t.match(await ours.metrics(), /^tokios_collected_total 7$/m);
});
