// Issue item 4: load sharing between connectors of one deployment, the per-connector concurrency cap, and a
// connector whose model server is down taking no traffic.
import t from 'tap';
import { TestFabric, connectorTerminators, quickScript, until, type IngressInfo, type OpenAIUpstream } from '../support/index.js';

/** Runs `n` jobs with at most `width` at a time. */
async function pool<T>(n: number, width: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await job(i);
      }
    }),
  );
  return out;
}

t.test('load sharing, concurrency cap, unhealthy upstream', async (t) => {
  const f = await TestFabric.start(t, { deployments: ['model-a', 'model-capped'] });
  const [ingress, t1, t2, upA, upB, upC] = await Promise.all([
    f.ingress(), f.terminator(), f.terminator(), f.upstream('a'), f.upstream('b'), f.upstream('c'),
  ]);
  const [cA, cB, cC] = await Promise.all([
    f.connector('model-a', upA, t1.url),
    f.connector('model-a', upB, t1.url),
    f.connector('model-capped', upC, t1.url, { max_concurrency: 2 }),
  ]);
  // Each connector spreads its two tunnels over both terminators (Welcome.peers).
  await until(() => [cA, cB, cC].every((c) => connectorTerminators(c).size === 2), 10_000, 'tunnels on both terminators');
  t.ok(t2.id, 'two terminators');

  const ask = (ing: IngressInfo, model: string, content: string) =>
    f.client(ing).chat.completions.create({ model, messages: [{ role: 'user', content }] });

  await t.test('100 requests over 2 connectors: each gets at least 30 %', async (t) => {
    for (const [up, name] of [[upA, 'A'], [upB, 'B']] as [OpenAIUpstream, string][]) {
      up.script = () => ({ ...quickScript(`from ${name}`), firstDelayMs: 10 });
    }
    const results = await pool(100, 10, (i) => ask(ingress, 'model-a', `r${i}`));
    const fromA = results.filter((r) => r.choices[0]?.message.content === 'from A').length;
    const fromB = results.filter((r) => r.choices[0]?.message.content === 'from B').length;
    t.equal(fromA + fromB, 100, 'all 100 answered');
    t.ok(fromA >= 30, `connector A served ${fromA}`);
    t.ok(fromB >= 30, `connector B served ${fromB}`);
    t.equal(upA.requests.length + upB.requests.length, 100, 'no request reached a model twice');
  });

  await t.test('max_concurrency is respected while 3x cap concurrent requests all succeed', async (t) => {
    const cap = 2;
    upC.script = () => ({ ...quickScript('capped'), firstDelayMs: 300 });
    const results = await Promise.all(Array.from({ length: 3 * cap }, (_, i) => ask(ingress, 'model-capped', `c${i}`)));
    t.equal(results.filter((r) => r.choices[0]?.message.content === 'capped').length, 3 * cap, 'all succeeded');
    t.ok(upC.maxActive <= cap, `upstream saw at most ${upC.maxActive} at once (cap ${cap})`);
    t.equal(upC.maxActive, cap, 'and the cap was used');
    t.equal(upC.requests.length, 3 * cap, 'each request reached the model once');
  });

  await t.test('a connector whose model server is down stops receiving traffic', async (t) => {
    await upA.close();
    const before = upB.requests.length;
    const results = await pool(20, 4, (i) => ask(ingress, 'model-a', `after-close-${i}`));
    t.equal(results.filter((r) => r.choices[0]?.message.content === 'from B').length, 20, 'all 20 served by B');
    t.equal(upB.requests.length - before, 20);
    await cA.waitFor(/model server is down/, 5_000);
    t.pass('connector A noticed its model server is down');
    // Once the terminators know, A is not even tried.
    await until(() => /"healthy":false/.test(t1.proc.output) && /"healthy":false/.test(t2.proc.output), 5_000, 'both terminators to mark A unhealthy');
    const more = await pool(10, 5, (i) => ask(ingress, 'model-a', `later-${i}`));
    t.equal(more.filter((r) => r.choices[0]?.message.content === 'from B').length, 10);
  });
});
