/**
 * A model server whose streams are slow: one content chunk per second (like a loaded GPU at 1 token/s), each
 * carrying the moment it was written, `"content":"@<epoch µs>"`, so the client can take arrival minus emit as the
 * latency the chain added to that chunk. OpenAI-compatible wire format (POST /v1/chat/completions, GET /v1/models).
 * The timers of all streams are one shared 1-s-aligned pass per 10 ms slot (not a timer per stream).
 *
 *   node slow-upstream.js <port> <tokens per stream> [interval ms]
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const port = Number(process.argv[2] ?? 0);
const TOKENS = Number(process.argv[3] ?? 20);
const INTERVAL_MS = Number(process.argv[4] ?? 1_000);
const SLOT_MS = 10;
const MODEL = 'slow-upstream';

/** Wall-clock µs with sub-millisecond resolution, comparable across processes on one machine. */
const nowMicros = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

interface Stream {
  res: ServerResponse;
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

function stream(res: ServerResponse, model: string, usage: boolean): void {
  const head = `data: {"id":"chatcmpl-slow${(++seq).toString(36)}","object":"chat.completion.chunk","created":${Math.floor(Date.now() / 1000)},"model":${JSON.stringify(model)},"choices":[{"index":0,"delta":`;
  const tail = `,"logprobs":null,"finish_reason":null}]${usage ? ',"usage":null' : ''}}\n\n`;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(`${head}{"role":"assistant","content":""}${tail}`);
  active++;
  // The first token one interval from now: this stream's slot is the current one (a full turn of the wheel).
  slots[slot]!.push({ res, head, tail, sent: 0, usage });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/v1/models') return json(res, 200, { object: 'list', data: [{ id: MODEL, object: 'model', created: 1700000000, owned_by: 'bench' }] });
  if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return json(res, 404, { error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' } });
  readBody(req).then(
    (raw) => {
      let body: { model?: unknown; stream?: unknown; stream_options?: { include_usage?: unknown } };
      try {
        body = JSON.parse(raw) as typeof body;
      } catch {
        return json(res, 400, { error: { message: 'invalid JSON', type: 'invalid_request_error' } });
      }
      const model = typeof body.model === 'string' ? body.model : MODEL;
      if (body.stream !== true) {
        return json(res, 200, {
          id: 'chatcmpl-slow', object: 'chat.completion', created: Math.floor(Date.now() / 1000), model,
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, logprobs: null, finish_reason: 'stop' }], usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 },
        });
      }
      stream(res, model, body.stream_options?.include_usage === true);
    },
    () => res.destroy(),
  );
});
server.keepAliveTimeout = 65_000;
server.maxHeadersCount = 100;
server.listen(port, '127.0.0.1', () => process.stdout.write(`slow upstream listening ${(server.address() as AddressInfo).port}\n`));
setInterval(() => process.stdout.write(`active ${active}\n`), 5_000).unref();
process.on('SIGTERM', () => process.exit(0));
