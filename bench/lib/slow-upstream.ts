/**
 * A model server whose streams are slow: one content chunk per second (like a loaded GPU at 1 token/s), each
 * carrying the moment it was written, `"content":"@<epoch µs>"`, so the client can take arrival minus emit as the
 * latency the chain added to that chunk. OpenAI-compatible wire format (POST /v1/chat/completions, GET /v1/models).
 * The timers of all streams are one shared 1-s-aligned pass per 10 ms slot (not a timer per stream).
 *
 *   node slow-upstream.js <port> <tokens per stream> [interval ms]
 */
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

const port = Number(process.argv[2] ?? 0);
const TOKENS = Number(process.argv[3] ?? 20);
const INTERVAL_MS = Number(process.argv[4] ?? 1_000);
const SLOT_MS = 10;
const MODEL = 'slow-upstream';

/** Wall-clock µs with sub-millisecond resolution, comparable across processes on one machine. */
const nowMicros = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

interface Stream {
  res: Res;
  head: string;
  tail: string;
  sent: number;
  usage: boolean;
}

/** Streams by the slot (of INTERVAL_MS / SLOT_MS) their next token is due in: one timer serves them all. */
const slots: Stream[][] = Array.from({ length: Math.max(1, Math.round(INTERVAL_MS / SLOT_MS)) }, () => []);
let slot = 0;
setInterval(() => {
  slot = (slot + 1) % slots.length;
  const due = slots[slot]!;
  slots[slot] = [];
  for (const s of due) tick(s);
}, SLOT_MS);

let seq = 0;
let active = 0;

function tick(s: Stream): void {
  if (s.res.destroyed) {
    active--;
    return;
  }
  if (s.sent < TOKENS) {
    s.sent++;
    s.res.write(`${s.head}{"content":"@${nowMicros()} "}${s.tail}`);
    slots[slot]!.push(s);
    return;
  }
  let end = `${s.head}{}${s.tail.replace('"finish_reason":null', '"finish_reason":"stop"')}`;
  if (s.usage) end += `${s.head.slice(0, s.head.indexOf('"choices"'))}"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":${TOKENS},"total_tokens":${TOKENS + 9}}}\n\n`;
  s.res.end(`${end}data: [DONE]\n\n`);
  active--;
}

/**
 * HTTP/1.1 on raw sockets, the little of it the connector speaks (a request line, headers, a Content-Length body,
 * keep-alive; answers chunked or with a length): node:http cost ~45 µs of CPU per chunk written, as much as the
 * ingress's relay of it, on the 2 cores this upstream shares with the chain it feeds. Here a chunk is one write.
 */
class Res {
  destroyed = false;
  constructor(private readonly socket: Socket) {
    socket.once('close', () => (this.destroyed = true));
  }

  head(status: number, contentType: string, length?: number): string {
    const framing = length === undefined ? 'transfer-encoding: chunked' : `content-length: ${length}`;
    return `HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Error'}\r\ncontent-type: ${contentType}\r\ncache-control: no-cache\r\nconnection: keep-alive\r\n${framing}\r\n\r\n`;
  }

  /** One chunk of a chunked answer (`prefix`: the answer's head, written in the same call). */
  write(text: string, prefix = ''): void {
    if (!this.destroyed) this.socket.write(`${prefix}${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
  }

  end(text: string): void {
    if (this.destroyed) return;
    this.socket.write(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n0\r\n\r\n`);
    this.socket.resume();
  }
}

function stream(res: Res, model: string, usage: boolean): void {
  const head = `data: {"id":"chatcmpl-slow${(++seq).toString(36)}","object":"chat.completion.chunk","created":${Math.floor(Date.now() / 1000)},"model":${JSON.stringify(model)},"choices":[{"index":0,"delta":`;
  const tail = `,"logprobs":null,"finish_reason":null}]${usage ? ',"usage":null' : ''}}\n\n`;
  res.write(`${head}{"role":"assistant","content":""}${tail}`, res.head(200, 'text/event-stream'));
  active++;
  // The first token one interval from now: this stream's slot is the current one (a full turn of the wheel).
  slots[slot]!.push({ res, head, tail, sent: 0, usage });
}

function json(socket: Socket, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  socket.write(`${new Res(socket).head(status, 'application/json', Buffer.byteLength(text))}${text}`);
}

function answer(socket: Socket, method: string, url: string, raw: string): boolean {
  if (method === 'GET' && url === '/v1/models') {
    json(socket, 200, { object: 'list', data: [{ id: MODEL, object: 'model', created: 1700000000, owned_by: 'bench' }] });
    return true;
  }
  if (method !== 'POST' || url !== '/v1/chat/completions') {
    json(socket, 404, { error: { message: `no route ${method} ${url}`, type: 'invalid_request_error' } });
    return true;
  }
  let body: { model?: unknown; stream?: unknown; stream_options?: { include_usage?: unknown } };
  try {
    body = JSON.parse(raw) as typeof body;
  } catch {
    json(socket, 400, { error: { message: 'invalid JSON', type: 'invalid_request_error' } });
    return true;
  }
  const model = typeof body.model === 'string' ? body.model : MODEL;
  if (body.stream !== true) {
    json(socket, 200, {
      id: 'chatcmpl-slow', object: 'chat.completion', created: Math.floor(Date.now() / 1000), model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, logprobs: null, finish_reason: 'stop' }], usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 },
    });
    return true;
  }
  // Reading stops while the stream runs (one request at a time per connection, as the connector sends them).
  socket.pause();
  stream(new Res(socket), model, body.stream_options?.include_usage === true);
  return false;
}

const server = createServer((socket) => {
  socket.setNoDelay(true);
  let buf: Buffer = Buffer.alloc(0);
  const onData = (piece: Buffer): void => {
    buf = buf.length ? Buffer.concat([buf, piece]) : piece;
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headText = buf.toString('latin1', 0, end);
      const m = /^content-length:\s*(\d+)/im.exec(headText);
      const length = m ? Number(m[1]) : 0;
      if (buf.length < end + 4 + length) return;
      const [method = '', url = ''] = headText.slice(0, headText.indexOf('\r\n')).split(' ');
      const raw = buf.toString('utf8', end + 4, end + 4 + length);
      buf = buf.subarray(end + 4 + length);
      if (!answer(socket, method, url, raw)) return;
    }
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`slow upstream listening ${(server.address() as AddressInfo).port}\n`));
setInterval(() => process.stdout.write(`active ${active}\n`), 5_000).unref();
process.on('SIGTERM', () => process.exit(0));
