/**
 * Minimal, fast OpenAI-compatible model server for the benchmark (its own process).
 * Speaks the exact chat.completion / chat.completion.chunk wire format; streamed answers write their
 * chunks as fast as the socket takes them (no delays), honouring backpressure.
 *
 *   node upstream.js <port> <streamChunks>
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const port = Number(process.argv[2] ?? 0);
const STREAM_CHUNKS = Number(process.argv[3] ?? 1024);
const MODEL = 'bench-upstream';
const ANSWER = 'Hello! How can I help you today?';

let seq = 0;
const newId = (): string => `chatcmpl-${(++seq).toString(36).padStart(8, '0')}`;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts)));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function complete(res: ServerResponse, model: string): void {
  json(res, 200, {
    id: newId(),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: ANSWER }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 9, completion_tokens: 9, total_tokens: 18 },
  });
}

async function stream(res: ServerResponse, model: string, includeUsage: boolean): Promise<void> {
  const head = `data: {"id":"${newId()}","object":"chat.completion.chunk","created":${Math.floor(Date.now() / 1000)},"model":${JSON.stringify(model)},"system_fingerprint":null,"choices":[{"index":0,"delta":`;
  const tail = `,"logprobs":null,"finish_reason":null}]${includeUsage ? ',"usage":null' : ''}}\n\n`;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let ok = res.write(`${head}{"role":"assistant","content":""}${tail}`);
  for (let i = 0; i < STREAM_CHUNKS; i++) {
    if (res.destroyed) return;
    if (!ok) await new Promise<void>((r) => res.once('drain', r));
    ok = res.write(`${head}{"content":"tok${i % 10} "}${tail}`);
  }
  let end = `${head}{}${tail.replace('"finish_reason":null', '"finish_reason":"stop"')}`;
  if (includeUsage) {
    end += `${head.slice(0, head.indexOf('"choices"'))}"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":${STREAM_CHUNKS},"total_tokens":${STREAM_CHUNKS + 9}}}\n\n`;
  }
  res.end(`${end}data: [DONE]\n\n`);
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/v1/models') {
    json(res, 200, { object: 'list', data: [{ id: MODEL, object: 'model', created: 1700000000, owned_by: 'bench' }] });
    return;
  }
  if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
    json(res, 404, { error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' } });
    return;
  }
  readBody(req).then(
    (raw) => {
      let body: { model?: unknown; stream?: unknown; stream_options?: { include_usage?: unknown } };
      try {
        body = JSON.parse(raw.toString('utf8')) as typeof body;
      } catch {
        json(res, 400, { error: { message: 'invalid JSON', type: 'invalid_request_error' } });
        return;
      }
      const model = typeof body.model === 'string' ? body.model : MODEL;
      if (body.stream === true) void stream(res, model, body.stream_options?.include_usage === true);
      else complete(res, model);
    },
    () => res.destroy(),
  );
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`upstream listening ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
