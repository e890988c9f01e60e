import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ScriptedServer, SeenRequest } from './scripted-server.js';

/**
 * The wire formats of the endpoints behind legacy completions and embeddings, as the real servers write them:
 * Ollama /api/generate and /api/embed, OpenAI-compatible /v1/completions and /v1/embeddings, llama.cpp's /props and
 * /infill. The scripted upstreams route those paths here.
 */

/** What a scripted server answers to one completion (any of the three completion endpoints). */
export interface TextScript {
  chunks: string[];
  finish: 'stop' | 'length';
  usage: { prompt: number; completion: number };
  /** Delay before each piece after the first, and before the first (prefill), in ms. */
  delayMs: number;
  firstDelayMs: number;
  /** Answer with this HTTP status and body instead. */
  fail?: { status: number; body: unknown };
}

export const defaultTextScript = (): TextScript => ({
  chunks: ['def ', 'add(a, b):', '\n    return a + b'],
  finish: 'stop',
  usage: { prompt: 9, completion: 3 },
  delayMs: 0,
  firstDelayMs: 0,
});

/** A deterministic unit-ish vector for a text, so tests can check which input got which vector. */
export function vectorFor(text: string, dims: number): number[] {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  const out: number[] = [];
  for (let i = 0; i < dims; i++) {
    h = Math.imul(h ^ (h >>> 13), 1540483477) >>> 0;
    // Float32-exact values, so base64 round trips compare equal.
    out.push(Math.fround((h % 2000) / 1000 - 1));
  }
  return out;
}

/** Tokens a scripted server charges per input text: one per whitespace-separated word, at least one. */
export function wordTokens(text: string): number {
  return Math.max(1, text.split(/\s+/).filter((w) => w.length > 0).length);
}

/** Reads a JSON body and records it on the server; undefined (and a 400 sent) when it is not JSON. */
export async function receive(server: ScriptedServer, req: IncomingMessage, res: ServerResponse): Promise<SeenRequest | undefined> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  const raw = Buffer.concat(parts);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
  } catch {
    json(res, 400, { error: 'invalid JSON body' });
    return undefined;
  }
  const seen: SeenRequest = { path: req.url ?? '', body, raw, headers: req.headers, aborted: false, finished: false };
  server.requests.push(seen);
  res.on('close', () => {
    if (!seen.finished) {
      seen.aborted = true;
      server.emit('aborted', seen);
    }
  });
  server.emit('request', seen);
  return seen;
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function finish(server: ScriptedServer, seen: SeenRequest, res: ServerResponse, last: string): void {
  seen.finished = true;
  res.end(last);
  server.emit('finished', seen);
}

/** Writes pieces with the script's timing; false when the caller went away. */
async function pace(res: ServerResponse, s: TextScript, pieces: string[]): Promise<boolean> {
  await sleep(s.firstDelayMs);
  for (let i = 0; i < pieces.length; i++) {
    if (i > 0) await sleep(s.delayMs);
    if (res.destroyed) return false;
    res.write(pieces[i]);
  }
  return !res.destroyed;
}

async function whole(res: ServerResponse, s: TextScript): Promise<boolean> {
  await sleep(s.firstDelayMs + s.delayMs * Math.max(0, s.chunks.length - 1));
  return !res.destroyed;
}

function failed(server: ScriptedServer, seen: SeenRequest, res: ServerResponse, s: TextScript): boolean {
  if (!s.fail) return false;
  seen.finished = true;
  json(res, s.fail.status, s.fail.body);
  server.emit('finished', seen);
  return true;
}

/** Ollama POST /api/generate: NDJSON `{model, created_at, response, done:false}` lines, then the done line; one object with `stream: false`. */
export async function ollamaGenerate(server: ScriptedServer, seen: SeenRequest, res: ServerResponse, s: TextScript, model: string): Promise<void> {
  if (failed(server, seen, res, s)) return;
  const at = () => new Date().toISOString();
  const done = {
    done: true,
    done_reason: s.finish,
    context: [128006, 882, 128007],
    total_duration: 10706818083,
    load_duration: 6338219291,
    prompt_eval_count: s.usage.prompt,
    prompt_eval_duration: 130079000,
    eval_count: s.usage.completion,
    eval_duration: 4232710000,
  };
  if (seen.body.stream === false) {
    if (!(await whole(res, s))) return;
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    return finish(server, seen, res, JSON.stringify({ model, created_at: at(), response: s.chunks.join(''), ...done }));
  }
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  if (!(await pace(res, s, s.chunks.map((c) => `${JSON.stringify({ model, created_at: at(), response: c, done: false })}\n`)))) return;
  finish(server, seen, res, `${JSON.stringify({ model, created_at: at(), response: '', ...done })}\n`);
}

/** Ollama POST /api/embed: `{model, embeddings: [[…]], total_duration, load_duration, prompt_eval_count}`. */
export function ollamaEmbed(server: ScriptedServer, seen: SeenRequest, res: ServerResponse, model: string, dims: number): void {
  const input = seen.body.input;
  const texts = typeof input === 'string' ? [input] : Array.isArray(input) ? input.map(String) : [];
  if (texts.length === 0) return finishJson(server, seen, res, 400, { error: 'invalid input type' });
  const size = typeof seen.body.dimensions === 'number' ? seen.body.dimensions : dims;
  finishJson(server, seen, res, 200, {
    model,
    embeddings: texts.map((t) => vectorFor(t, size)),
    total_duration: 14143917,
    load_duration: 1019500,
    prompt_eval_count: texts.reduce((n, t) => n + wordTokens(t), 0),
  });
}

function finishJson(server: ScriptedServer, seen: SeenRequest, res: ServerResponse, status: number, body: unknown): void {
  seen.finished = true;
  json(res, status, body);
  server.emit('finished', seen);
}

/**
 * OpenAI-compatible POST /v1/completions as vLLM writes it: `text_completion` objects; streamed chunks with
 * `choices[0].text`, `usage: null` on each when the caller asked for usage, then a `choices: []` usage chunk, then
 * `data: [DONE]`. `suffix` is accepted and ignored (as llama.cpp's does).
 */
export async function openaiCompletions(server: ScriptedServer, seen: SeenRequest, res: ServerResponse, s: TextScript, fallbackModel: string): Promise<void> {
  if (failed(server, seen, res, s)) return;
  const id = `cmpl-${Math.random().toString(36).slice(2, 10)}`;
  const created = Math.floor(Date.now() / 1000);
  const model = typeof seen.body.model === 'string' ? seen.body.model : fallbackModel;
  const usage = { prompt_tokens: s.usage.prompt, completion_tokens: s.usage.completion, total_tokens: s.usage.prompt + s.usage.completion };
  if (seen.body.stream !== true) {
    if (!(await whole(res, s))) return;
    res.writeHead(200, { 'content-type': 'application/json' });
    const choice = { index: 0, text: s.chunks.join(''), logprobs: null, finish_reason: s.finish, stop_reason: null, prompt_logprobs: null };
    return finish(server, seen, res, JSON.stringify({ id, object: 'text_completion', created, model, choices: [choice], usage }));
  }
  const includeUsage = (seen.body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
  const chunk = (text: string, reason: string | null) =>
    `data: ${JSON.stringify({ id, object: 'text_completion', created, model, choices: [{ index: 0, text, logprobs: null, finish_reason: reason, stop_reason: null }], ...(includeUsage ? { usage: null } : {}) })}\n\n`;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  if (!(await pace(res, s, s.chunks.map((c) => chunk(c, null))))) return;
  let tail = chunk('', s.finish);
  if (includeUsage) tail += `data: ${JSON.stringify({ id, object: 'text_completion', created, model, choices: [], usage })}\n\n`;
  finish(server, seen, res, `${tail}data: [DONE]\n\n`);
}

/** OpenAI-compatible POST /v1/embeddings: floats, or base64 little-endian float32 with `encoding_format: "base64"`. */
export function openaiEmbeddings(server: ScriptedServer, seen: SeenRequest, res: ServerResponse, fallbackModel: string, dims: number): void {
  const input = seen.body.input;
  const texts = typeof input === 'string' ? [input] : Array.isArray(input) ? input.map((i) => (typeof i === 'string' ? i : JSON.stringify(i))) : [];
  if (texts.length === 0) return finishJson(server, seen, res, 400, { object: 'error', message: 'input is required', type: 'BadRequestError', param: null, code: 400 });
  const base64 = seen.body.encoding_format === 'base64';
  const size = typeof seen.body.dimensions === 'number' ? seen.body.dimensions : dims;
  const tokens = texts.reduce((n, t) => n + wordTokens(t), 0);
  finishJson(server, seen, res, 200, {
    object: 'list',
    data: texts.map((t, index) => {
      const v = vectorFor(t, size);
      return { object: 'embedding', index, embedding: base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v };
    }),
    model: typeof seen.body.model === 'string' ? seen.body.model : fallbackModel,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

/** llama.cpp GET /props (abridged to what clients read). */
export function llamaProps(res: ServerResponse, model: string): void {
  json(res, 200, {
    default_generation_settings: { n_ctx: 8192, params: { n_predict: -1, temperature: 0.8, top_k: 40, top_p: 0.95 } },
    total_slots: 4,
    model_path: `/models/${model}.gguf`,
    chat_template: '{{ messages }}',
    build_info: 'b6100-scripted',
  });
}

/**
 * llama.cpp POST /infill: `data: {"index":0,"content":…,"tokens":[],"stop":false,"id_slot":-1,"tokens_predicted":n,
 * "tokens_evaluated":m}` per token, then a `stop: true` event with stop_type, the counts and timings (no `[DONE]`).
 * Not streamed: one object with `content` and the same fields.
 */
export async function llamaInfill(server: ScriptedServer, seen: SeenRequest, res: ServerResponse, s: TextScript, model: string): Promise<void> {
  if (failed(server, seen, res, s)) return;
  const stopType = s.finish === 'length' ? 'limit' : 'eos';
  const timings = { prompt_n: s.usage.prompt, prompt_ms: 12.5, predicted_n: s.usage.completion, predicted_ms: 80.1 };
  const last = { index: 0, content: '', tokens: [], id_slot: 0, stop: true, model, tokens_predicted: s.usage.completion, tokens_evaluated: s.usage.prompt, truncated: false, stop_type: stopType, stopping_word: '', tokens_cached: s.usage.prompt, timings };
  if (seen.body.stream !== true) {
    if (!(await whole(res, s))) return;
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    return finish(server, seen, res, JSON.stringify({ ...last, content: s.chunks.join('') }));
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const events = s.chunks.map((c, i) => `data: ${JSON.stringify({ index: 0, content: c, tokens: [], stop: false, id_slot: -1, tokens_predicted: i + 1, tokens_evaluated: s.usage.prompt })}\n\n`);
  if (!(await pace(res, s, events))) return;
  finish(server, seen, res, `data: ${JSON.stringify(last)}\n\n`);
}

/** Unref'd, so a long scripted delay never keeps a finished test process alive. */
function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms).unref()) : Promise.resolve();
}
