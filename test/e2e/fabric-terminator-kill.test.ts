// Issue item 8: a terminator SIGKILLed mid-stream. The caller gets an error within 3 s; requests keep succeeding at
// once through the connector's tunnel to the other terminator; the connector reconnects with jittered backoff,
// spreads its tunnels over the terminators again, and serves again after a full outage.
// Connectors dial a TCP balancer over the terminators, as they would dial the load balancer in production.
import t from 'tap';
import {
  TestFabric, connectorTerminators, connectorTunnels, logLines, quickScript, slowScript, terminatorHealth, until, within,
  type TerminatorInfo,
} from '../support/index.js';

t.test('terminator SIGKILL', async (t) => {
  const f = await TestFabric.start(t);
  const [ingress, t1, t2, up] = await Promise.all([f.ingress(), f.terminator(), f.terminator(), f.upstream()]);
  const lb = await f.balancer([t1, t2]);
  // At debug the connector logs every failed dial with its backoff (at warn they are rate-limited).
  const c = await f.connector('model-a', up, lb.url, {}, { LOG_LEVEL: 'debug' });
  await until(() => connectorTerminators(c).size === 2, 10_000, 'tunnels on both terminators');
  t.same([...connectorTerminators(c)].sort(), [t1.id, t2.id].sort(), 'one tunnel on each terminator');

  up.script = (body) => {
    const content = (body.messages as { content: string }[])[0]?.content ?? '';
    return content.startsWith('quick') ? quickScript(`ok ${content}`) : slowScript(100, 100);
  };
  const client = f.client(ingress);
  const quick = async (tag: string): Promise<{ text: string | null | undefined; ms: number }> => {
    const t0 = Date.now();
    const r = await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: `quick ${tag}` }] });
    return { text: r.choices[0]?.message.content, ms: Date.now() - t0 };
  };

  // A stream, and the terminator that carries it.
  const reached = up.next('request');
  const stream = await client.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'long' }] });
  await within(reached, 5_000, 'the stream reaching the model');
  let x: TerminatorInfo | undefined;
  await until(async () => {
    for (const term of [t1, t2]) if ((await terminatorHealth(term)).streams === 1) x = term;
    return x !== undefined;
  }, 5_000, 'a terminator to report the stream');
  const [dead, y] = x === t1 ? [t1, t2] : [t2, t1];

  let chunks = 0;
  let killedAt = 0;
  const consumed = (async () => {
    for await (const ch of stream) {
      if (!ch.choices[0]?.delta.content) continue;
      if (++chunks === 3) {
        killedAt = Date.now();
        await dead.proc.kill('SIGKILL');
      }
    }
  })().then(() => undefined, (e: unknown) => e as Error);
  await until(() => killedAt > 0 && !dead.proc.running, 10_000, 'the terminator to be killed');

  // Right away, while the caller of the lost stream still waits: a new request goes through the other terminator.
  const right = await quick('right after the kill');
  t.equal(right.text, 'ok quick right after the kill', `a request right after the kill succeeded in ${right.ms} ms`);

  const { value: err } = await within(consumed, 5_000, 'the lost stream to end');
  const endedAfter = Date.now() - killedAt;
  t.ok(err instanceof Error, `the stream ended with an error: ${err?.message}`);
  t.ok(endedAfter < 3_000, `${endedAfter} ms after the kill (bound 3000)`);
  t.ok(chunks < 100);

  await t.test('the lost tunnel reconnects, and spreads back when the terminator returns', async (t) => {
    await until(() => [...connectorTunnels(c).values()].filter((id) => id === y.id).length === 2, 10_000, 'both tunnels on the surviving terminator');
    t.pass('the connector reconnected its lost tunnel (through the balancer, to the live terminator)');
    const back = await f.terminator({}, dead.port);
    await until(() => connectorTerminators(c).has(back.id), 10_000, 'a tunnel on the restarted terminator');
    t.same([...connectorTerminators(c)].sort(), [y.id, back.id].sort(), 'tunnels spread over both terminators again');

    // Now the other terminator can die and requests still succeed at once.
    await y.proc.kill('SIGKILL');
    const r = await quick('after the second kill');
    t.equal(r.text, 'ok quick after the second kill', `served through the restarted terminator in ${r.ms} ms`);

    await t.test('full outage: reconnect with jittered backoff, then serve again', async (t) => {
      const failure = (l: Record<string, unknown>): boolean => l.msg === 'tunnel closed' || l.msg === 'tunnel dial failed';
      const closesBefore = logLines(c).filter(failure).length;
      await back.proc.kill('SIGKILL');
      // Each tunnel fails a few times against the balancer with no terminator behind it.
      const outageCloses = () => logLines(c).filter(failure).slice(closesBefore);
      await until(() => [0, 1].every((i) => outageCloses().filter((l) => l.tunnel === i).length >= 3), 20_000, 'three failed reconnects per tunnel');
      const delays = outageCloses().map((l) => l.retryInMs as number);
      t.ok(delays.every((d) => d >= 0 && d <= 15_000), `delays within the 15 s cap: ${delays.join(', ')}`);
      t.ok(new Set(delays).size > delays.length / 2, 'delays are jittered, not fixed');
      // Full jitter: the n-th consecutive failure waits less than base * 2^n.
      for (const i of [0, 1]) {
        const mine = outageCloses().filter((l) => l.tunnel === i).map((l) => l.retryInMs as number);
        t.ok(mine.slice(0, 3).every((d, n) => d < 500 * 2 ** (n + 3)), `tunnel ${i}: ${mine.join(', ')} grow within their windows`);
      }
      const [n1, n2] = await Promise.all([f.terminator({}, t1.port), f.terminator({}, t2.port)]);
      await until(() => connectorTerminators(c).has(n1.id) || connectorTerminators(c).has(n2.id), 15_000, 'a tunnel back up');
      const r2 = await quick('after the outage');
      t.equal(r2.text, 'ok quick after the outage', 'requests succeed again');
    });
  });
});
