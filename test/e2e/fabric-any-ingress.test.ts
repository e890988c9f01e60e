// Issue item 3: any ingress serves any tunnel. Two ingress processes and two terminator processes on one NATS;
// one connector pinned to each terminator (one tunnel each); every (ingress, terminator) pair carries a request.
import t from 'tap';
import { TestFabric, connectorTerminators, logLines, quickScript, until } from '../support/index.js';

t.test('2 ingress x 2 terminators: every combination reaches its connector', async (t) => {
  const f = await TestFabric.start(t, { deployments: ['model-1', 'model-2'] });
  const [i1, i2, t1, t2, up1, up2] = await Promise.all([f.ingress(), f.ingress(), f.terminator(), f.terminator(), f.upstream('m1'), f.upstream('m2')]);
  up1.script = () => quickScript('answer from connector 1');
  up2.script = () => quickScript('answer from connector 2');
  // One tunnel each, so connector 1 lives on terminator 1 only and connector 2 on terminator 2 only.
  const [c1, c2] = await Promise.all([
    f.connector('model-1', up1, t1.url, { tunnels: 1 }),
    f.connector('model-2', up2, t2.url, { tunnels: 1 }),
  ]);
  // (the 'tunnel up' log line may trail the "Tunnel established" banner)
  await until(() => connectorTerminators(c1).has(t1.id), 5_000, 'connector 1 on terminator 1');
  await until(() => connectorTerminators(c2).has(t2.id), 5_000, 'connector 2 on terminator 2');
  t.same([...connectorTerminators(c1), ...connectorTerminators(c2)], [t1.id, t2.id], 'each connector is attached to its own terminator only');

  const combos = [
    { ingress: i1, model: 'model-1', via: t1, up: up1, text: 'answer from connector 1' },
    { ingress: i1, model: 'model-2', via: t2, up: up2, text: 'answer from connector 2' },
    { ingress: i2, model: 'model-1', via: t1, up: up1, text: 'answer from connector 1' },
    { ingress: i2, model: 'model-2', via: t2, up: up2, text: 'answer from connector 2' },
  ];
  for (const [n, c] of combos.entries()) {
    const before = c.up.requests.length;
    const doneBefore = logLines(c.ingress.proc).filter((l) => l.msg === 'request done').length;
    const content = `combo ${n}`;
    const res = await f.client(c.ingress).chat.completions.create({ model: c.model, messages: [{ role: 'user', content }] });
    t.equal(res.choices[0]?.message.content, c.text, `ingress ${c.ingress === i1 ? 1 : 2} -> ${c.model}`);
    t.equal(c.up.requests.length, before + 1, 'exactly one upstream request');
    t.same(c.up.requests.at(-1)?.body.messages, [{ role: 'user', content }]);
    // The ingress logs which terminator acknowledged it (the log line may trail the response a little).
    await until(() => logLines(c.ingress.proc).filter((l) => l.msg === 'request done').length > doneBefore, 5_000, 'the ingress request log');
    const done = logLines(c.ingress.proc).filter((l) => l.msg === 'request done').at(-1);
    t.equal(done?.terminatorId, c.via.id, 'served through the terminator that holds the tunnel');
  }

  // Streaming through both ingresses as well.
  for (const ingress of [i1, i2]) {
    const stream = await f.client(ingress).chat.completions.create({ model: 'model-2', stream: true, messages: [{ role: 'user', content: 's' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    t.equal(text, 'answer from connector 2');
  }
});
