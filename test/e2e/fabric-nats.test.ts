// Issue item 9: NATS killed and restarted on the same port: streams in flight fail cleanly, every service reconnects
// by itself and requests succeed afterwards. And the basic flow on a 3-node cluster with ingress and terminator on
// different nodes.
import t from 'tap';
import { freePort } from '../support/ports.js';
import { NatsServer, TestFabric, logLines, quickScript, slowScript, spawnCli, until, within, type NatsCluster } from '../support/index.js';

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
  // The client retries every 250 ms while NATS is down; the log says so at most once per 10 s.
  const reconnecting = (ingress.proc.output.match(/"msg":"nats reconnecting"/g) ?? []).length;
  t.ok(reconnecting >= 1 && reconnecting <= 2, `${reconnecting} "nats reconnecting" lines for the whole outage`);

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

t.test('NATS_URL lists a 3-node cluster whose first seed is dead: services start on the others and serve', async (t) => {
  const f = await TestFabric.start(t, { cluster: true });
  const cluster = f.nats as NatsCluster;
  await cluster.nodes[0]!.kill('SIGKILL');
  t.equal(f.natsUrl.split(',').length, 3, 'all three seeds, the dead one first');
  const ingress = await f.ingress();
  const term = await f.terminator();
  const up = await f.upstream();
  await f.connector('model-a', up, term.url);
  up.script = () => quickScript('two of three');
  const r = await f.client(ingress).chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] });
  t.equal(r.choices[0]?.message.content, 'two of three');
  for (const p of [ingress.proc, term.proc]) {
    const connected = logLines(p).find((l) => l.msg === 'nats connected');
    t.not(connected?.server, cluster.nodes[0]!.url.replace('nats://', ''), `${p.name} connected to a live node (${String(connected?.server)})`);
    t.equal(connected?.seeds, 3);
  }
});

t.test('every seed down at startup: each failure is logged with the server and the cause, then it connects', async (t) => {
  const f = await TestFabric.start(t);
  const [a, b] = [await freePort(), await freePort()];
  const seeds = `nats://127.0.0.1:${a},nats://127.0.0.1:${b}`;
  const ingress = spawnCli('ingress', ['ingress'], { ...f.env({ NATS_URL: seeds }), TOKIOS_INGRESS_HOST: '127.0.0.1', TOKIOS_INGRESS_PORT: String(await freePort()) });
  f.procs.push(ingress);
  for (const port of [a, b]) {
    await ingress.waitFor(new RegExp(`"server":"nats://127\\.0\\.0\\.1:${port}","err":"CONNECTION_REFUSED[^\n]*"msg":"nats server unavailable; trying the others"`));
  }
  t.pass('both dead seeds logged, with the cause');
  const late = new NatsServer(b);
  await late.restart();
  t.teardown(() => late.stop());
  await ingress.waitFor(/ingress listening/);
  const lines = logLines(ingress).filter((l) => l.msg === 'nats server unavailable; trying the others');
  const perSeed = [a, b].map((p) => lines.filter((l) => l.server === `nats://127.0.0.1:${p}`).length);
  t.ok(perSeed.every((n) => n >= 1 && n <= 2), `rate-limited: ${perSeed.join(' and ')} lines for retries every 0.25-5 s`);
  t.match(logLines(ingress).find((l) => l.msg === 'nats connected'), { server: `127.0.0.1:${b}`, seeds: 2 });
});
