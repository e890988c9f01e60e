// Issue item 5: a caller that goes away mid-request stops the generation on the model server within 1 s.
import t from 'tap';
import { TestFabric, slowScript, terminatorHealth, until, within } from '../support/index.js';

t.test('client disconnects', async (t) => {
  const f = await TestFabric.start(t);
  const [ingress, term, up] = await Promise.all([f.ingress(), f.terminator(), f.upstream()]);
  await f.connector('model-a', up, term.url);
  up.script = () => slowScript(100, 100);

  await t.test('mid-stream: the upstream request is aborted within 1 s', async (t) => {
    const ac = new AbortController();
    const stream = await f.client(ingress).chat.completions.create(
      { model: 'model-a', stream: true, messages: [{ role: 'user', content: 'long story' }] },
      { signal: ac.signal },
    );
    let chunks = 0;
    const aborted = up.next('aborted');
    let abortedAt = 0;
    try {
      for await (const c of stream) {
        if (c.choices[0]?.delta.content) chunks++;
        if (chunks === 3) {
          abortedAt = Date.now();
          ac.abort();
        }
      }
    } catch (err) {
      t.match((err as Error).name, /Abort/, 'the client saw its own abort');
    }
    t.ok(abortedAt > 0, 'got 3 chunks, then hung up');
    const { value: seen, ms } = await within(aborted, 1_000, 'upstream abort after the client hung up');
    t.ok(seen.aborted && !seen.finished, `upstream aborted ${Date.now() - abortedAt} ms after the hang-up (waited ${ms} ms)`);
    await until(async () => (await terminatorHealth(term)).streams === 0, 2_000, 'the terminator to drop the stream');
  });

  await t.test('during a non-streamed request: the upstream request is aborted within 1 s', async (t) => {
    up.script = () => ({ ...slowScript(1, 0), firstDelayMs: 20_000 });
    const ac = new AbortController();
    const started = up.next('request');
    const call = f.client(ingress).chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'think hard' }] }, { signal: ac.signal });
    call.catch(() => undefined);
    await within(started, 5_000, 'request reaching the model');
    const aborted = up.next('aborted');
    const abortedAt = Date.now();
    ac.abort();
    await t.rejects(call, 'the client call rejects');
    const { value: seen } = await within(aborted, 1_000, 'upstream abort after the client hung up');
    t.ok(seen.aborted, `upstream aborted ${Date.now() - abortedAt} ms after the hang-up`);
  });

  await t.test('the fabric still serves afterwards', async (t) => {
    up.script = () => slowScript(3, 0);
    const res = await f.client(ingress).chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] });
    t.equal(res.choices[0]?.message.content, 'tok0 tok1 tok2 ');
  });
});
