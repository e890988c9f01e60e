// Issue 10: the connector survives a model server that closes a keep-alive socket just as it is reused (one retry on
// a new connection, for requests and health checks alike), and a gateway URL that names a single dead terminator
// (it falls back to a terminator it knows from earlier Welcomes).
import t from 'tap';
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { TestFabric, connectorTerminators, connectorTunnels, quickScript, startConnectorProc, until } from '../support/index.js';

// Two fabrics of three and four CLI processes: on a loaded 2-core machine their starts alone can take minutes.
t.setTimeout(600_000);

/**
 * An OpenAI-compatible model server that resets every reused keep-alive connection when the next request arrives on
 * it (what a server whose idle timeout fires at that moment does), and serves every first request on a connection.
 */
class StaleKeepAliveServer {
  private readonly server: Server;
  private readonly served = new WeakMap<Socket, number>();
  resets = 0;
  answered = 0;
  url = '';

  constructor() {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    const a = this.server.address();
    this.url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const n = (this.served.get(req.socket) ?? 0) + 1;
    this.served.set(req.socket, n);
    if (n > 1) {
      this.resets++;
      req.socket.resetAndDestroy();
      return;
    }
    req.resume();
    req.on('end', () => {
      this.answered++;
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET') return res.end(JSON.stringify({ object: 'list', data: [{ id: 'stale-model', object: 'model', created: 1, owned_by: 'test' }] }));
      res.end(JSON.stringify({
        id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'stale-model',
        choices: [{ index: 0, message: { role: 'assistant', content: 'fine' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      }));
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

t.test('a reused keep-alive socket reset before any answer: retried once on a new connection (requests and health checks)', async (t) => {
  const f = await TestFabric.start(t);
  const up = new StaleKeepAliveServer();
  await up.listen();
  t.teardown(() => up.close());
  const [ingress, term] = await Promise.all([f.ingress(), f.terminator()]);
  const conn = await startConnectorProc({
    tunnel_token: f.seeded.deployments['model-a']!.token, upstream: up.url, gateway: term.url, upstream_kind: 'openai', model: 'stale-model', health_interval_ms: 100,
  });
  f.procs.push(conn);
  const client = f.client(ingress);
  for (let i = 0; i < 8; i++) {
    const r = await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: `q${i}` }] });
    t.equal(r.choices[0]?.message.content, 'fine', `request ${i} answered`);
  }
  await until(() => up.resets >= 8, 20_000, 'the server to have reset reused sockets');
  t.ok(up.resets >= 8, `${up.resets} reused sockets were reset by the model server; every request and health check went through anyway`);
  t.notMatch(conn.output, /model server is down/, 'the health check never marked the model server down');
  t.match(conn.output, /reused model server connection failed before any answer; retrying on a new one/);
});

t.test('the gateway names a single dead terminator: the connector falls back to a terminator it knows', async (t) => {
  const f = await TestFabric.start(t);
  const [ingress, t1, t2, up] = await Promise.all([f.ingress(), f.terminator(), f.terminator(), f.upstream()]);
  // The gateway reaches t1 only; t2 is known from t1's Welcome (its peer list), and one tunnel spreads to it.
  const lb = await f.balancer([t1]);
  const c = await f.connector('model-a', up, lb.url);
  await until(() => connectorTerminators(c).size === 2, 20_000, 'one tunnel moved to the peer t2');
  await t1.proc.kill('SIGKILL');
  await until(() => [...connectorTunnels(c).values()].filter((id) => id === t2.id).length === 2, 30_000, 'both tunnels on t2').catch((err: unknown) => {
    t.comment(c.output.split('\n').filter((l) => /tunnel|gateway|peer|terminator/.test(l)).slice(-25).join('\n'));
    throw err;
  });
  t.match(c.output, /gateway unreachable; trying a known terminator/, 'the tunnel left the dead gateway for a known terminator');
  up.script = () => quickScript('via the known peer');
  const r = await f.client(ingress).chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] });
  t.equal(r.choices[0]?.message.content, 'via the known peer', 'requests are served');
});
