// Issue item 7: SIGTERM on a connector (spot preemption) mid-stream. Its streams complete, nothing new is routed to
// it, it exits once drained, and callers see no failure under steady load over two connectors. A second signal
// exits at once.
import t from 'tap';
import { TestFabric, slowScript, until, within } from '../support/index.js';

t.test('connector SIGTERM drains without failing a request', async (t) => {
  const f = await TestFabric.start(t, { deployments: ['model-a', 'model-z'] });
  const [ingress, term, upA, upB] = await Promise.all([f.ingress(), f.terminator(), f.upstream('a'), f.upstream('b')]);
  const [cA] = await Promise.all([f.connector('model-a', upA, term.url), f.connector('model-a', upB, term.url)]);
  const pieces = slowScript(10, 60);
  upA.script = () => pieces;
  upB.script = () => pieces;
  const expected = pieces.chunks.join('');
  const client = f.client(ingress);

  // Steady load: 4 callers streaming back to back until told to stop.
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const issuedAt = new Map<string, number>();
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; !stop; i++) {
      const content = `w${w} r${i}`;
      issuedAt.set(content, Date.now());
      try {
        const stream = await client.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content }] });
        let text = '';
        for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
        if (text === expected) ok++;
        else failures.push(`w${w} r${i}: truncated answer (${text.length} of ${expected.length} chars)`);
      } catch (err) {
        failures.push(`w${w} r${i}: ${(err as Error).message}`);
      }
    }
  };
  const load = Promise.all([0, 1, 2, 3].map(worker));

  // SIGTERM connector A while it is mid-stream.
  await until(() => upA.active > 0 && upB.active > 0, 10_000, 'both connectors to be streaming');
  const inFlightAtA = upA.requests.filter((r) => !r.finished && !r.aborted);
  const okBefore = ok;
  cA.signal('SIGTERM');
  await cA.waitFor(/"msg":"draining"/, 5_000);
  // From the moment the terminator has logged A's draining status, no request issued later may reach A.
  await term.proc.waitFor(/"draining":true,"msg":"connector status"/, 5_000);
  const terminatorKnew = Date.now();

  const { value: exit, ms } = await within(cA.exited, 15_000, 'connector A to exit once drained');
  t.same(exit, { code: 0, signal: null }, `connector A exited cleanly ${ms} ms after starting to drain`);
  t.ok(inFlightAtA.length > 0, `${inFlightAtA.length} stream(s) were in flight at A when it got SIGTERM`);
  t.ok(inFlightAtA.every((r) => r.finished && !r.aborted), 'every stream in flight at A completed');
  const contentOf = (r: { body: Record<string, unknown> }) => (r.body.messages as { content: string }[])[0]!.content;
  const late = upA.requests.filter((r) => (issuedAt.get(contentOf(r)) ?? 0) > terminatorKnew).map(contentOf);
  t.same(late, [], 'no request issued after the terminator knew A was draining reached A');
  t.ok([...issuedAt.values()].some((at) => at > terminatorKnew), 'requests kept coming after that');

  // Keep the load on a while after A has gone, then stop it.
  const okAtExit = ok;
  await until(() => ok >= okAtExit + 8, 15_000, 'more requests served by B');
  stop = true;
  await load;
  t.same(failures, [], 'zero failed requests under steady load');
  t.ok(ok > okBefore, `${ok} requests served in total`);

  await t.test('SIGTERM under a burst of short requests: none fails', async (t) => {
    // Short requests, so the connector is often idle when the signal lands and exits at once: requests the
    // terminator sent before it saw the draining status must be rejected and placed elsewhere, not lost.
    const quick = { ...pieces, chunks: ['q'], delayMs: 0 };
    const upC = await f.upstream('c');
    upA.script = () => quick;
    upB.script = () => quick;
    upC.script = () => quick;
    const cC = await f.connector('model-a', upC, term.url);
    let stopBurst = false;
    let served = 0;
    const errors: string[] = [];
    const burst = Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; !stopBurst; i++) {
          try {
            await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: `b${w}.${i}` }] });
            served++;
          } catch (err) {
            errors.push((err as Error).message);
          }
        }
      }),
    );
    await until(() => upC.requests.length >= 20, 10_000, 'the new connector to take a share');
    cC.signal('SIGTERM');
    const { value: exit } = await within(cC.exited, 10_000, 'connector C to exit');
    t.equal(exit.code, 0, 'drained and exited cleanly');
    const at = served;
    await until(() => served >= at + 50, 10_000, 'the burst to go on');
    stopBurst = true;
    await burst;
    t.same(errors, [], `zero failed requests (${served} served)`);
  });

  await t.test('a second signal exits at once', async (t) => {
    const upZ = await f.upstream('z');
    upZ.script = () => slowScript(200, 100);
    const cZ = await f.connector('model-z', upZ, term.url);
    const reached = upZ.next('request');
    const stream = await client.chat.completions.create({ model: 'model-z', stream: true, messages: [{ role: 'user', content: 'long' }] });
    const consumed = (async () => {
      for await (const _c of stream) {
        /* read along */
      }
    })().catch((e: unknown) => e);
    await within(reached, 5_000, 'the stream reaching the model');
    cZ.signal('SIGTERM');
    await cZ.waitFor(/"msg":"draining"/, 5_000);
    t.ok(cZ.running, 'first signal: still running, draining the long stream');
    const t0 = Date.now();
    cZ.signal('SIGTERM');
    const { value: exit } = await within(cZ.exited, 2_000, 'exit after the second signal');
    t.equal(exit.code, 130, `second signal: exited at once (${Date.now() - t0} ms)`);
    await within(consumed, 5_000, 'the abandoned stream to end');
  });
});
