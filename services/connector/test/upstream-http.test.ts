import t from 'tap';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { contentTypeOf, isStaleSocketError, upstreamCall, upstreamGet, type UpstreamCallOptions } from '../src/upstream-http.js';

/** A model server that answers the first request on each connection and resets the connection on any later one. */
async function resettingServer(t: { teardown(fn: () => unknown): void }): Promise<{ base: string; connections: () => number }> {
  const served = new WeakMap<Socket, number>();
  let connections = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const n = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, n);
    if (n > 1) {
      req.socket.resetAndDestroy();
      return;
    }
    req.resume();
    req.on('end', () => res.end('{"ok":true}'));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const a = server.address();
  return { base: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, connections: () => connections };
}

/** One exchange: its status and body, or the error it failed with. */
function exchange(base: string, opts: UpstreamCallOptions): Promise<{ status: number; body: string } | Error> {
  return new Promise((resolve) => {
    let status = 0;
    const parts: Buffer[] = [];
    upstreamCall(base, opts, {
      head: (s) => (status = s),
      data: (c) => parts.push(Buffer.from(c)),
      end: () => resolve({ status, body: Buffer.concat(parts).toString() }),
      error: (err) => resolve(err),
    });
  });
}

t.test('a reused keep-alive socket that fails before any answer is told apart from a fresh one that does', async (t) => {
  const up = await resettingServer(t);
  const first = await exchange(up.base, { method: 'POST', path: '/v1/chat/completions', body: '{}' });
  t.same(first, { status: 200, body: '{"ok":true}' }, 'the first request on a new connection is answered');
  // The answer's end is told before undici frees its connection: the next request would open another one.
  await new Promise((r) => setImmediate(r));
  const second = await exchange(up.base, { method: 'POST', path: '/v1/chat/completions', body: '{}' });
  t.ok(second instanceof Error, 'the second goes out on the pooled socket and is reset');
  t.ok(second instanceof Error && isStaleSocketError(second), `a stale keep-alive socket: retry once (${(second as NodeJS.ErrnoException).code})`);
  const retry = await exchange(up.base, { method: 'POST', path: '/v1/chat/completions', body: '{}', fresh: true });
  t.same(retry, { status: 200, body: '{"ok":true}' }, 'the retry on a connection of its own is answered');
  t.equal(up.connections(), 2, 'the retry opened a new connection');
});

t.test('a fresh connection reset before any answer is no stale socket', async (t) => {
  const server = createServer((req) => req.socket.resetAndDestroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const a = server.address();
  const base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  const err = await exchange(base, { method: 'POST', path: '/v1/chat/completions', body: '{}' });
  t.ok(err instanceof Error, 'the request failed');
  t.notOk(err instanceof Error && isStaleSocketError(err), 'not retried: the request may have reached the model');
});

t.test('probes: bounded body, and a server that does not answer fails after the timeout', async (t) => {
  const server = createServer((req, res) => {
    if (req.url === '/big') return res.end('y'.repeat(10_000));
    // /silent: never answers
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const a = server.address();
  const base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  const big = await upstreamGet(base, '/big', 5_000, 4096);
  t.equal(big.status, 200);
  t.ok(big.text.length <= 4096, `kept ${big.text.length} of 10000 bytes`);
  await t.rejects(upstreamGet(base, '/silent', 100), /upstream timeout/, 'no answer within the timeout');
});

t.test('headers: accept, the given set, the base URL credentials and a JSON type for a body, the same on every call', async (t) => {
  const seen: Record<string, string | undefined>[] = [];
  const server = createServer((req, res) => {
    seen.push({ accept: req.headers.accept, type: req.headers['content-type'], auth: req.headers.authorization, x: req.headers['x-plan'] as string | undefined });
    req.resume();
    req.on('end', () => res.end('{}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  const plain = `http://127.0.0.1:${port}`;
  const withUser = `http://u%20ser:p%40ss@127.0.0.1:${port}`;
  const frozen = Object.freeze({ 'x-plan': 'frozen', accept: 'text/event-stream' });
  const auth = `Basic ${Buffer.from('u ser:p@ss').toString('base64')}`;
  for (let i = 0; i < 2; i++) await exchange(withUser, { method: 'POST', path: '/v1/chat/completions', body: '{}', headers: frozen });
  await exchange(plain, { method: 'POST', path: '/v1/chat/completions', body: '{}', headers: frozen });
  await exchange(plain, { method: 'POST', path: '/v1/chat/completions', body: '{}', headers: { 'x-plan': 'fresh', 'content-type': 'text/plain' } });
  await exchange(withUser, { method: 'GET', path: '/v1/models', headers: frozen });
  await exchange(plain, { method: 'GET', path: '/health' });
  t.same(seen, [
    { accept: 'text/event-stream', type: 'application/json', auth, x: 'frozen' },
    { accept: 'text/event-stream', type: 'application/json', auth, x: 'frozen' },
    { accept: 'text/event-stream', type: 'application/json', auth: undefined, x: 'frozen' },
    { accept: '*/*', type: 'text/plain', auth: undefined, x: 'fresh' },
    { accept: 'text/event-stream', type: undefined, auth, x: 'frozen' },
    { accept: '*/*', type: undefined, auth: undefined, x: undefined },
  ]);
});

t.test('the content type is read from the raw header list as undici\'s parsed headers gave it', async (t) => {
  const raw = (...pairs: string[]): Buffer[] => pairs.map((p) => Buffer.from(p, 'latin1'));
  t.equal(contentTypeOf(raw('Date', 'x', 'Content-Type', 'text/event-stream')), 'text/event-stream', 'any letter case of the name');
  t.equal(contentTypeOf(raw('CONTENT-TYPE', 'application/json; charset=utf-8')), 'application/json; charset=utf-8');
  t.equal(contentTypeOf(raw('content-type', 'caf\u00e9')), 'caf\u00e9', 'a value read as latin1');
  t.equal(contentTypeOf(raw('x-request-id', 'a', 'content-typf', 'b', 'content_type', 'c')), 'application/octet-stream', 'look-alike names of the same length');
  t.equal(contentTypeOf(raw('content-type', 'a', 'Content-Type', 'b')), 'application/octet-stream', 'repeated: no single type');
  t.equal(contentTypeOf(raw()), 'application/octet-stream', 'none');
  t.equal(contentTypeOf(raw('content-type')), 'application/octet-stream', 'a name without its value');
  t.equal(contentTypeOf(['Content-Type', 'text/plain']), 'text/plain', 'string names and values');
});

t.test('an answer paused before its head and in the middle is read on resume; an abort stops it', async (t) => {
  let writeMore: (() => void) | undefined;
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('a');
    writeMore = () => res.end('b');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const a = server.address();
  const base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  const heard: string[] = [];
  let ended: () => void = () => undefined;
  const done = new Promise<void>((r) => (ended = r));
  const call = upstreamCall(base, { method: 'POST', path: '/p', body: '{}' }, {
    head: (s, type) => heard.push(`head ${s} ${type}`),
    data: (c) => {
      heard.push(`data ${c.toString()}`);
      call.pause();
      setTimeout(() => {
        heard.push('resume');
        call.resume();
        writeMore?.();
        writeMore = undefined;
      }, 50);
    },
    end: () => {
      heard.push('end');
      ended();
    },
    error: (err) => heard.push(`error ${err.message}`),
  });
  call.pause();
  await new Promise((r) => setTimeout(r, 50));
  t.same(heard.filter((h) => h.startsWith('data')), [], 'nothing of the body while paused before the head');
  call.resume();
  await done;
  t.same(heard, ['head 200 text/plain', 'data a', 'resume', 'data b', 'resume', 'end'], 'each chunk paused the answer: its end too waited for the resume');

  const aborted: string[] = [];
  const gone = upstreamCall(base, { method: 'POST', path: '/p', body: '{}' }, {
    head: () => {
      aborted.push('head');
      gone.abort();
    },
    data: () => aborted.push('data'),
    end: () => aborted.push('end'),
    error: () => aborted.push('error'),
  });
  await new Promise((r) => setTimeout(r, 100));
  t.same(aborted, ['head'], 'after abort the sink hears nothing more');
});
