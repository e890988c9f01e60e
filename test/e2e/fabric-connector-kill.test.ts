// Issue item 6: a connector SIGKILLed mid-stream. The caller's stream ends with an error within 3 s (never hangs),
// the next request goes to another connector, and with none left the caller gets a 503 within 3 s.
import t from 'tap';
import { APIError } from 'openai';
import { TestFabric, slowScript, quickScript, terminatorHealth, until, within, type OpenAIUpstream, type Proc } from '../support/index.js';

t.test('connector SIGKILL mid-stream', async (t) => {
  const f = await TestFabric.start(t);
  const [ingress, term, upA, upB] = await Promise.all([f.ingress(), f.terminator(), f.upstream('a'), f.upstream('b')]);
  const [cA, cB] = await Promise.all([f.connector('model-a', upA, term.url), f.connector('model-a', upB, term.url)]);
  for (const up of [upA, upB]) up.script = () => slowScript(100, 100);
  const client = f.client(ingress);

  // Which connector gets the stream is up to the fabric: find out from the model servers.
  const reached = Promise.race([upA.next('request').then(() => 'A' as const), upB.next('request').then(() => 'B' as const)]);
  const stream = await client.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'long' }] });
  const which = await reached;
  const [victim, victimUp, survivor, survivorUp]: [Proc, OpenAIUpstream, Proc, OpenAIUpstream] = which === 'A' ? [cA, upA, cB, upB] : [cB, upB, cA, upA];

  let chunks = 0;
  let killedAt = 0;
  const consumed = (async () => {
    for await (const c of stream) {
      if (!c.choices[0]?.delta.content) continue;
      chunks++;
      if (chunks === 3) {
        killedAt = Date.now();
        void victim.kill('SIGKILL');
      }
    }
  })();
  const err = await within(consumed.then(() => undefined, (e: unknown) => e as Error), 10_000, 'the stream to end');
  t.ok(killedAt > 0, 'the stream was under way when the connector died');
  const endedAfter = Date.now() - killedAt;
  t.ok(err.value instanceof Error, `the stream ended with an error: ${err.value?.message}`);
  t.ok(endedAfter < 3_000, `the stream ended ${endedAfter} ms after the kill (bound 3000)`);
  t.ok(chunks < 100, 'and did not pretend to complete');
  t.match(err.value?.message ?? '', /tunnel|connector/i, 'the error says the tunnel was lost');
  await until(() => victimUp.requests.at(-1)?.aborted === true, 2_000, 'the model server to see its caller go away');

  // The next request goes to the connector that is still alive (once the terminator has seen both tunnels of the
  // dead one close: a request placed on a tunnel in the instant before that would be a lost, not a retried, one).
  await until(async () => (await terminatorHealth(term)).tunnels === 2, 3_000, 'the terminator to drop the dead tunnels');
  survivorUp.script = () => quickScript('survivor');
  const started = Date.now();
  const res = await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'next' }] });
  t.equal(res.choices[0]?.message.content, 'survivor', `next request served by the other connector in ${Date.now() - started} ms`);

  // With no connector left: a 503 within 3 s.
  await survivor.kill('SIGKILL');
  await until(async () => (await terminatorHealth(term)).tunnels === 0, 3_000, 'the terminator to drop the last tunnels');
  const t0 = Date.now();
  let message = '';
  const status = await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'anyone?' }] }).then(
    () => 200,
    (e: unknown) => {
      message = (e as Error).message;
      return e instanceof APIError ? e.status : -1;
    },
  );
  const took = Date.now() - t0;
  t.equal(status, 503, 'no connector: 503');
  t.match(message, /No connector is online/, 'the terminator stopped taking requests for the deployment (no responders)');
  t.ok(took < 3_000, `503 after ${took} ms (bound 3000)`);
});
