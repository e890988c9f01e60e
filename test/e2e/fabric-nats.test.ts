// Issue item 9: NATS killed and restarted on the same port: streams in flight fail cleanly, every service reconnects
// by itself and requests succeed afterwards. And the basic flow on a 3-node cluster with ingress and terminator on
// different nodes.
import t from 'tap';
import { NatsServer, TestFabric, quickScript, slowScript, until, within, type NatsCluster } from '../support/index.js';

t.test('NATS restarted on the same port', async (t) => {
  const f = await TestFabric.start(t);
  const [ingress, term, up] = await Promise.all([f.ingress(), f.terminator(), f.upstream()]);
  await f.connector('model-a', up, term.url);
  const client = f.client(ingress);
  up.script = () => quickScript('before');
  t.equal((await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] })).choices[0]?.message.content, 'before');

  // A stream in flight when NATS dies.
  up.script = () => slowScript(100, 100);
  const reached = up.next('request');
  const stream = await client.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'long' }] });
  await within(reached, 5_000, 'the stream reaching the model');
  let killedAt = 0;
  const consumed = (async () => {
    let n = 0;
    for await (const c of stream) {
      if (c.choices[0]?.delta.content && ++n === 2) {
        killedAt = Date.now();
        await (f.nats as NatsServer).kill('SIGKILL');
      }
    }
  })().then(() => undefined, (e: unknown) => e as Error);
  const { value: err } = await within(consumed, 10_000, 'the stream to end');
  t.ok(err instanceof Error, `the stream in flight failed cleanly: ${err?.message}`);
  t.ok(Date.now() - killedAt < 3_000, `${Date.now() - killedAt} ms after NATS died (bound 3000)`);
  await until(() => up.requests.at(-1)?.aborted === true, 3_000, 'the model request to be aborted');
  t.pass('the terminator cancelled the upstream request');

  // While NATS is down: a clean 503, not a hang.
  const downAt = Date.now();
  const down = await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] }).then(
    () => 200,
    (e: { status?: number }) => e.status ?? -1,
  );
  t.equal(down, 503, `NATS down: 503 after ${Date.now() - downAt} ms`);
  t.ok(Date.now() - downAt < 3_000, 'within 3 s');

  const ingressReconnects = (ingress.proc.output.match(/"msg":"nats reconnect"/g) ?? []).length;
  const termReconnects = (term.proc.output.match(/"msg":"nats reconnect"/g) ?? []).length;
  await (f.nats as NatsServer).restart();
  await until(
    () =>
      (ingress.proc.output.match(/"msg":"nats reconnect"/g) ?? []).length > ingressReconnects &&
      (term.proc.output.match(/"msg":"nats reconnect"/g) ?? []).length > termReconnects,
    10_000,
    'ingress and terminator to reconnect',
  ).catch((e: unknown) => {
      throw e;
  });
  t.pass('ingress and terminator reconnected on their own');

  up.script = () => quickScript('after');
  for (let i = 0; i < 5; i++) {
    const r = await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: `after ${i}` }] });
    t.equal(r.choices[0]?.message.content, 'after', `request ${i} after the restart`);
  }
  const s = await client.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 's' }] });
  let text = '';
  for await (const c of s) text += c.choices[0]?.delta.content ?? '';
  t.equal(text, 'after', 'streaming works after the restart');
});

t.test('3-node NATS cluster: ingress and terminator on different nodes', async (t) => {
  const f = await TestFabric.start(t, { cluster: true });
  const cluster = f.nats as NatsCluster;
  const [n0, n1] = cluster.nodes;
  const [ingress, term, up] = await Promise.all([f.ingress({ NATS_URL: n0!.url }), f.terminator({ NATS_URL: n1!.url }), f.upstream()]);
  await f.connector('model-a', up, term.url);
  const client = f.client(ingress);
  up.script = () => quickScript('across the cluster');
  const r = await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] });
  t.equal(r.choices[0]?.message.content, 'across the cluster', 'non-streamed');

  up.script = () => slowScript(20, 5);
  const s = await client.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'y' }] });
  let text = '';
  for await (const c of s) text += c.choices[0]?.delta.content ?? '';
  t.equal(text, slowScript(20, 5).chunks.join(''), 'streamed, in order');

  // The terminator's node dies: it moves to another node (learned from the cluster) and service resumes.
  const before = (term.proc.output.match(/"msg":"nats reconnect"/g) ?? []).length;
  await n1!.kill('SIGKILL');
  await until(() => (term.proc.output.match(/"msg":"nats reconnect"/g) ?? []).length > before, 10_000, 'the terminator to reconnect to another node');
  up.script = () => quickScript('after failover');
  await until(
    async () =>
      client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'z' }] }).then(
        (x) => x.choices[0]?.message.content === 'after failover',
        () => false,
      ),
    5_000,
    'a request to succeed after the failover',
  );
  t.pass('served again after the terminator moved to another node');
});
