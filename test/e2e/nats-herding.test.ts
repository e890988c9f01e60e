// Issue 10: with one seed in NATS_URL, a rolling restart (lame duck, one node at a time) must not leave every
// process on the last node restarted. Clients learn the other nodes from the cluster (INFO connect_urls) and spread
// over them on each reconnect; requests keep succeeding throughout. Real 3-node nats-server cluster; where each
// connection is comes from each node's monitoring /connz.
import t from 'tap';
import pino from 'pino';
import { connectNats, natsSettingsFromEnv, type NatsConnection } from '@tokios/shared/nats';
import { LAME_DUCK_CONFIG, type NatsCluster } from '../support/nats-server.js';
import { TestFabric, slowScript } from '../support/fabric.js';

t.setTimeout(240_000);

/**
 * Connections of our own client code (connectNats, as every service uses it) besides the service processes. Each
 * ends on n0 with probability 5/8 (n0 -> n1|n2, n1 -> n0|n2, n2 -> n0|n1, each a coin toss), so all 22 on one node by
 * chance is about 3 in 100,000.
 */
const CLIENTS = 20;

t.test('one seed URL: after a rolling restart the clients are spread over the cluster, and no request failed', async (t) => {
  const f = await TestFabric.start(t, { cluster: true, natsConfig: LAME_DUCK_CONFIG, natsMonitor: true });
  const cluster = f.nats as NatsCluster;
  const seed = cluster.nodes[0]!.url;
  const ingress = await f.ingress({ NATS_URL: seed });
  const terminator = await f.terminator({ NATS_URL: seed });
  const up = await f.upstream();
  up.script = (body) => slowScript(10, 30, String((body.messages as { content: string }[])[0]?.content));
  await f.connector('model-a', up, terminator.url);

  const settings = natsSettingsFromEnv({ NATS_URL: seed });
  const log = pino({ level: 'silent' });
  const clients: NatsConnection[] = [];
  t.teardown(() => Promise.all(clients.map((nc) => nc.close().catch(() => undefined))));
  for (let i = 0; i < CLIENTS; i++) clients.push(await connectNats({ settings, name: `herd-${i}`, log }));

  const where = async (): Promise<Map<string, number>> => {
    const counts = new Map<string, number>();
    for (const [n, node] of cluster.nodes.entries()) {
      for (const name of await node.clientNames()) {
        if (name.startsWith('herd-') || name === 'ingress' || name === 'terminator') counts.set(`n${n}`, (counts.get(`n${n}`) ?? 0) + 1);
      }
    }
    return counts;
  };
  t.same([...(await where()).keys()], ['n0'], 'before: every connection on the one seed');

  // Requests one after the other, streamed (each crosses reconnects: ~300 ms of chunks) and whole, all through.
  const client = f.client(ingress, { timeout: 60_000 });
  const failures: string[] = [];
  let done = 0;
  let running = true;
  const load = (async () => {
    for (let n = 0; running; n++) {
      const tag = `r${n}`;
      const expected = slowScript(10, 30, tag).chunks.join('');
      try {
        const messages = [{ role: 'user' as const, content: tag }];
        let text = '';
        if (n % 2 === 0) {
          const s = await client.chat.completions.create({ model: 'model-a', stream: true, messages });
          for await (const ch of s) text += ch.choices[0]?.delta.content ?? '';
        } else {
          text = (await client.chat.completions.create({ model: 'model-a', messages })).choices[0]?.message.content ?? '';
        }
        if (text !== expected) failures.push(`${tag}: ${text.length} of ${expected.length} chars`);
      } catch (err) {
        failures.push(`${tag}: ${(err as Error).message.slice(0, 200)}`);
      }
      done++;
    }
  })();

  await cluster.rollingRestart((n) => t.comment(`node n${n} restarted in lame-duck mode (${done} requests so far)`));
  const servedBefore = done;
  // A few more after the last step, on wherever the services landed.
  while (done < servedBefore + 3) await new Promise((r) => setTimeout(r, 20));
  running = false;
  await load;

  const after = await where();
  t.comment(`after the rolling restart: ${JSON.stringify(Object.fromEntries(after))}`);
  const total = [...after.values()].reduce((a, b) => a + b, 0);
  t.equal(total, CLIENTS + 2, 'every connection is back (the clients, the ingress, the terminator)');
  t.ok(after.size >= 2, `spread over at least two nodes (${after.size})`);
  t.ok(Math.max(...after.values()) < total, 'no node holds them all');
  t.ok(done >= 6, `requests were served throughout (${done})`);
  t.same(failures, [], 'no request failed across the rolling restart');
  // The clients' own view agrees with the servers'.
  const ports = new Set(clients.map((nc) => nc.getServer()));
  t.ok(ports.size >= 2, `the clients report ${ports.size} distinct servers`);
});
