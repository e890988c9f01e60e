// Issue 12 item 1: cache-affine placement through the real chain (2 ingress replicas, 2 terminators, 2 connectors
// each with a tunnel on both terminators). A session's requests stick to one connector across both replicas; different
// sessions spread; the home at its cap sends the request to the other connector, which becomes the home; the home
// killed, the next request is served by the other at once, which becomes the home.
import t from 'tap';
import {
  TestFabric, connectorTerminators, metric, quickScript, scrape, until, type IngressInfo, type OpenAIUpstream, type Proc,
} from '../support/index.js';

t.test('cache-affine placement across ingress replicas and terminators', async (t) => {
  const f = await TestFabric.start(t);
  const [i1, i2, t1, t2, upA, upB] = await Promise.all([f.ingress(), f.ingress(), f.terminator(), f.terminator(), f.upstream('a'), f.upstream('b')]);
  const [cA, cB] = await Promise.all([f.connector('model-a', upA, t1.url, { max_concurrency: 2 }), f.connector('model-a', upB, t2.url, { max_concurrency: 2 })]);
  await until(() => [cA, cB].every((c) => connectorTerminators(c).size === 2), 15_000, 'each connector on both terminators');
  const name = new Map<OpenAIUpstream, 'A' | 'B'>([[upA, 'A'], [upB, 'B']]);
  const serve = (): void => {
    for (const [up, n] of name) up.script = () => quickScript(n);
  };
  serve();

  const ask = async (ing: IngressInfo, session: string, content = 'hi', signal?: AbortSignal): Promise<string> => {
    const r = await f.client(ing).chat.completions.create({ model: 'model-a', prompt_cache_key: session, messages: [{ role: 'user', content }] }, { signal });
    return r.choices[0]?.message.content ?? '';
  };
  const samples = async (ing: IngressInfo) => (await scrape(ing.url)).samples;
  const affinity = async (ing: IngressInfo, result: string) => metric(await samples(ing), 'tokios_ingress_affinity_total', { result });
  const learned = async (ing: IngressInfo) => metric(await samples(ing), 'tokios_ingress_affinity_learned_total');
  /** Waits until `ing` has learned `n` more homes from the other replica than `before`. */
  const learn = (ing: IngressInfo, before: number, n = 1) => until(async () => (await learned(ing)) >= before + n, 10_000, 'the other replica to learn the home');

  await t.test('one session sticks to one connector on both ingress replicas', async (t) => {
    const seen = await learned(i2);
    const home = await ask(i1, 'session-1');
    await learn(i2, seen);
    const answers: string[] = [];
    for (let n = 0; n < 8; n++) answers.push(await ask(n % 2 === 0 ? i2 : i1, 'session-1', `turn ${n}`));
    t.same(answers, Array(8).fill(home), `every turn served by ${home}`);
    t.equal((await affinity(i1, 'home')) + (await affinity(i2, 'home')), 8, 'each counted as placed on its home');

    // Without a key, the conversation's leading messages make the session: an agent's growing history stays put.
    const history: { role: 'user' | 'assistant' | 'system'; content: string }[] = [{ role: 'system', content: 'You are a coding agent.' }, { role: 'user', content: 'fix the bug' }];
    const seenPrefix = await learned(i2);
    const first = (await f.client(i1).chat.completions.create({ model: 'model-a', messages: history })).choices[0]?.message.content;
    await learn(i2, seenPrefix);
    for (let n = 0; n < 4; n++) {
      history.push({ role: 'assistant', content: `step ${n}` }, { role: 'user', content: `tool result ${n}` });
      const r = await f.client(n % 2 === 0 ? i2 : i1).chat.completions.create({ model: 'model-a', messages: history });
      t.equal(r.choices[0]?.message.content, first, `turn ${n + 2} (${history.length} messages) on the first turn's connector`);
    }
  });

  await t.test('different sessions spread over both connectors, and each stays where it started', async (t) => {
    const n = 24;
    const seen = await learned(i2);
    const known = metric(await samples(i2), 'tokios_ingress_affinity_sessions');
    const firsts = await Promise.all(Array.from({ length: n }, (_, i) => ask(i1, `spread-${i}`)));
    const onA = firsts.filter((x) => x === 'A').length;
    t.ok(onA >= 4 && n - onA >= 4, `sessions placed by load: ${onA} on A, ${n - onA} on B`);
    await learn(i2, seen, n);
    await until(async () => metric(await samples(i2), 'tokios_ingress_affinity_sessions') >= known + n, 10_000, 'the other replica to know every session');
    // One at a time: each connector takes two at once (max_concurrency), and a home at its cap is left (next test).
    const seconds: string[] = [];
    for (let i = 0; i < n; i++) seconds.push(await ask(i2, `spread-${i}`, 'second turn'));
    t.same(seconds, firsts, 'every session\'s second turn, through the other replica, on its first turn\'s connector');
  });

  await t.test('the home at its cap: the other connector serves, and becomes the home', async (t) => {
    const home = await ask(i1, 'session-cap');
    const [homeUp, otherUp] = home === 'A' ? [upA, upB] : [upB, upA];
    const other = name.get(otherUp)!;
    // Fill the home's two slots with turns of the same session that do not answer until aborted.
    homeUp.script = () => ({ ...quickScript('held'), firstDelayMs: 120_000 });
    const abort = new AbortController();
    const held = [ask(i1, 'session-cap', 'long 1', abort.signal), ask(i1, 'session-cap', 'long 2', abort.signal)].map((p) => p.catch(() => 'aborted'));
    await until(() => homeUp.active === 2, 10_000, 'both slots of the home in use');
    const movedBefore = await affinity(i1, 'moved');
    const seen = await learned(i2);
    t.equal(await ask(i1, 'session-cap', 'while full'), other, 'served by the other connector while the home is at its cap');
    t.equal(await affinity(i1, 'moved'), movedBefore + 1, 'counted as moved');
    abort.abort();
    t.same(await Promise.all(held), ['aborted', 'aborted'], 'the held turns were aborted');
    await until(() => homeUp.active === 0, 10_000, 'the held turns to end upstream');
    serve();
    t.equal(await ask(i1, 'session-cap', 'after'), other, 'the other connector is the home now, though the old one is idle');
    await learn(i2, seen);
    t.equal(await ask(i2, 'session-cap', 'after, other replica'), other, 'on the other replica too');
  });

  await t.test('the home killed: the next request is served at once by the other, which becomes the home', async (t) => {
    const [seen1, seen2] = [await learned(i1), await learned(i2)];
    const home = await ask(i1, 'session-kill');
    const [victim, survivor]: [Proc, string] = home === 'A' ? [cA, 'B'] : [cB, 'A'];
    await learn(i2, seen2);
    await victim.kill('SIGKILL');
    const movedBefore = await affinity(i2, 'moved');
    t.equal(await ask(i2, 'session-kill', 'after the kill'), survivor, 'served by the surviving connector');
    t.equal(await affinity(i2, 'moved'), movedBefore + 1, 'placed by load, off the dead home');
    t.notMatch(i2.proc.output, /no ack from the session's home/, 'no Ack timeout: the fallback was immediate (no responders or a Reject)');
    await learn(i1, seen1);
    t.equal(await ask(i1, 'session-kill', 'next'), survivor, 'the survivor is the home on the other replica too');
  });
});
