/**
 * Minimal, fast model server for the benchmark (its own process), speaking two APIs:
 *  - OpenAI-compatible: the exact chat.completion / chat.completion.chunk wire format (POST /v1/chat/completions,
 *    GET /v1/models);
 *  - Ollama native: POST /api/chat as Ollama answers it (streamed NDJSON, one JSON object per line:
 *    `{"model","created_at","message":{"role":"assistant","content"},"done":false}` per chunk, then a last
 *    `{"…","message":{…,"content":""},"done_reason":"stop","done":true,"total_duration",…,"eval_duration"}` line
 *    with the statistics), GET /api/version and GET /api/tags.
 * Both streams carry the same content chunks (same count, same text); they are written as fast as the socket
 * takes them (no delays), honouring backpressure.
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

// ----- Ollama -----------------------------------------------------------------------------------------------

const OLLAMA_MODEL = 'bench-upstream:latest';
const OLLAMA_VERSION = '0.12.6';

/** Ollama's created_at: RFC 3339 in UTC with nanoseconds (Go's time.Time JSON); refreshed once per millisecond. */
let stampMs = 0;
let stamp = '';
function createdAt(): string {
  const now = Date.now();
  if (now !== stampMs) {
    stampMs = now;
    stamp = `${new Date(now).toISOString().slice(0, -1)}${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}Z`;
  }
  return stamp;
}

/** The statistics Ollama puts on its last line (durations in ns). */
function ollamaStats(startedNs: bigint, evalCount: number): string {
  const total = Number(process.hrtime.bigint() - startedNs);
  return `"total_duration":${total},"load_duration":${Math.floor(total / 100)},"prompt_eval_count":9,"prompt_eval_duration":${Math.floor(total / 50)},"eval_count":${evalCount},"eval_duration":${Math.floor(total * 0.9)}`;
}

async function ollamaStream(res: ServerResponse, model: string): Promise<void> {
  const started = process.hrtime.bigint();
  const m = JSON.stringify(model);
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  let ok = true;
  for (let i = 0; i < STREAM_CHUNKS; i++) {
    if (res.destroyed) return;
    if (!ok) await new Promise<void>((r) => res.once('drain', r));
    ok = res.write(`{"model":${m},"created_at":"${createdAt()}","message":{"role":"assistant","content":"tok${i % 10} "},"done":false}\n`);
  }
  res.end(`{"model":${m},"created_at":"${createdAt()}","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,${ollamaStats(started, STREAM_CHUNKS)}}\n`);
}

function ollamaComplete(res: ServerResponse, model: string): void {
  const started = process.hrtime.bigint();
  const text = `{"model":${JSON.stringify(model)},"created_at":"${createdAt()}","message":{"role":"assistant","content":${JSON.stringify(ANSWER)}},"done_reason":"stop","done":true,${ollamaStats(started, 9)}}`;
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function ollamaChat(req: IncomingMessage, res: ServerResponse): void {
  readBody(req).then(
    (raw) => {
      let body: { model?: unknown; stream?: unknown; messages?: unknown };
      try {
        body = JSON.parse(raw.toString('utf8')) as typeof body;
      } catch {
        json(res, 400, { error: 'invalid character in request body' });
        return;
      }
      if (typeof body.model !== 'string' || body.model.length === 0) {
        json(res, 400, { error: 'model is required' });
        return;
      }
      // Ollama answers an unknown model with 404 and this message.
      if (body.model !== OLLAMA_MODEL && `${body.model}:latest` !== OLLAMA_MODEL) {
        json(res, 404, { error: `model "${body.model}" not found, try pulling it first` });
        return;
      }
      // Ollama streams unless the body says "stream": false.
      if (body.stream === false) ollamaComplete(res, body.model);
      else void ollamaStream(res, body.model);
    },
    () => res.destroy(),
  );
}

const OLLAMA_TAGS = {
  models: [
    {
      name: OLLAMA_MODEL,
      model: OLLAMA_MODEL,
      modified_at: '2025-10-03T23:34:03.409490317-07:00',
      size: 3338801804,
      digest: 'a2af6cc3eb7fa8be8504abaf9b04e88f17a119ec3f04a3addf55f92841195f5a',
      details: { parent_model: '', format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '3.2B', quantization_level: 'Q4_K_M' },
    },
  ],
};

// ----- routes --------------------------------------------------------------------------------------------------

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/v1/models') {
    json(res, 200, { object: 'list', data: [{ id: MODEL, object: 'model', created: 1700000000, owned_by: 'bench' }] });
    return;
  }
  if (req.url === '/api/version' && req.method === 'GET') return json(res, 200, { version: OLLAMA_VERSION });
  if (req.url === '/api/tags' && req.method === 'GET') return json(res, 200, OLLAMA_TAGS);
  if (req.url === '/api/chat' && req.method === 'POST') return ollamaChat(req, res);
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
