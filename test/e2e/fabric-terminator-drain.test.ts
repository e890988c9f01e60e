// Issue 10: a terminator SIGTERMed under load drains: readiness fails, it gives up its request subjects, tells its
// connectors to move (GoAway; they open the replacement tunnel first), lets the streams on it finish, then exits.
// Zero failed requests. And `tokios dev` closes the ingress first, the terminator last: Ctrl-C cuts no stream.
import t from 'tap';
import OpenAI from 'openai';
import {
  OpenAIUpstream, TestFabric, connectorTunnels, slowScript, startConnectorProc, startDevStack, terminatorHealth, until, within,
  type TerminatorInfo,
} from '../support/index.js';

t.test('terminator SIGTERM under load: zero failed requests', async (t) => {
  const f = await TestFabric.start(t);
  const [ingress, t1, t2, up] = await Promise.all([f.ingress(), f.terminator(), f.terminator(), f.upstream()]);
  const lb = await f.balancer([t1, t2]);
  const c = await f.connector('model-a', up, lb.url, { max_concurrency: 16 });
  await until(() => new Set(connectorTunnels(c).values()).size === 2, 15_000, 'tunnels on both terminators');
  const pieces = slowScript(12, 80);
  up.script = () => pieces;
  const expected = pieces.chunks.join('');
  const client = f.client(ingress);

  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; !stop; i++) {
      try {
        const stream = await client.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: `w${w} r${i}` }] });
        let text = '';
        for await (const ch of stream) text += ch.choices[0]?.delta.content ?? '';
        if (text === expected) ok++;
        else failures.push(`w${w} r${i}: answer differs (${text.length} of ${expected.length} chars)`);
      } catch (err) {
        failures.push(`w${w} r${i}: ${(err as Error).message}`);
      }
    }
  };
  const load = Promise.all([0, 1, 2, 3].map(worker));

  // The terminator carrying streams gets SIGTERM.
  let x: TerminatorInfo | undefined;
  await until(async () => {
    for (const term of [t1, t2]) if ((await terminatorHealth(term)).streams > 0) x = term;
    return x !== undefined;
  }, 15_000, 'a terminator with streams in flight');
  const [draining, survivor] = x === t1 ? [t1, t2] : [t2, t1];
  const streamsAtSignal = (await terminatorHealth(draining)).streams;
  draining.proc.signal('SIGTERM');
  await draining.proc.waitFor(/"msg":"terminator draining"/, 10_000);
  const ready = await fetch(`http://127.0.0.1:${draining.port}/readyz`).then((r) => r.status, () => 0);
  t.ok(ready === 503 || ready === 0, `readiness fails while draining (${ready === 0 ? 'already gone' : 'HTTP 503'})`);
  await c.waitFor(/"msg":"terminator going away; opening a replacement tunnel"/, 10_000);
  t.pass('the connector was told to move');

  const { value: exit, ms } = await within(draining.proc.exited, 30_000, 'the draining terminator to exit');
  t.same(exit, { code: 0, signal: null }, `it exited cleanly ${ms} ms after the signal, ${streamsAtSignal} stream(s) in flight at the signal`);
  t.match(draining.proc.output, /"msg":"terminator drained"/, 'every stream on it finished before it closed');
  await until(() => [...connectorTunnels(c).values()].every((id) => id === survivor.id) && connectorTunnels(c).size === 2, 15_000, 'both tunnels on the surviving terminator');
  t.pass('the connector holds both tunnels on the surviving terminator');

  const okAtExit = ok;
  await until(() => ok >= okAtExit + 8, 30_000, 'more requests served after the drain');
  stop = true;
  await load;
  t.same(failures, [], 'zero failed requests');
  t.ok(ok > 8, `${ok} streams served, each byte-correct`);
});

t.test('tokios dev closes the ingress first: a stream in flight at shutdown completes', async (t) => {
  const stack = await startDevStack(['model-a']);
  const up = await OpenAIUpstream.start('upstream-model');
  const conn = await startConnectorProc({ tunnel_token: stack.seeded.deployments['model-a']!.token, upstream: up.url, gateway: stack.gateway, upstream_kind: 'openai' });
  t.teardown(async () => {
    await conn.kill();
    await up.close();
    await stack.nats.stop();
  });
  const pieces = slowScript(15, 60);
  up.script = () => pieces;
  const client = new OpenAI({ apiKey: stack.seeded.apiKey, baseURL: stack.baseURL, maxRetries: 0 });
  const reached = up.next('request');
  const stream = await client.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'long' }] });
  await within(reached, 10_000, 'the stream reaching the model');
  const text = (async () => {
    let s = '';
    for await (const ch of stream) s += ch.choices[0]?.delta.content ?? '';
    return s;
  })();
  const closed = stack.dev.close();
  t.equal(await text, pieces.chunks.join(''), 'the stream in flight completed, byte for byte');
  await closed;
  t.pass('then the stack closed');
});
