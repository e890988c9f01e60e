import type { IncomingMessage, ServerResponse } from 'node:http';
import { ScriptedServer, type SeenRequest } from './scripted-server.js';
import { defaultTextScript, llamaInfill, llamaProps, openaiCompletions, openaiEmbeddings, receive, type TextScript } from './legacy-wire.js';

export type { SeenRequest } from './scripted-server.js';

/** What the scripted model answers to one request. */
export interface Script {
  /** Text pieces, one SSE chunk each. */
  chunks: string[];
  /** Delay before each chunk after the first (ms). */
  delayMs: number;
  /** Delay before the first chunk (prefill). */
  firstDelayMs: number;
  finishReason: 'stop' | 'length' | 'tool_calls';
  usage: { prompt_tokens: number; completion_tokens: number };
  /** Answer with this HTTP status and body instead of a completion. */
  fail?: { status: number; body: unknown };
  /** `reasoning_content` deltas before the content (vLLM, llama.cpp, LM Studio, DeepSeek). */
  reasoning?: string[];
  /** Tool calls after the content; `arguments` is the JSON text. */
  toolCalls?: Array<{ id?: string; name: string; arguments: string }>;
  /**
   * How tool calls stream: 'streamed' (default: name first, then the arguments in pieces), 'whole' (one chunk per
   * call), 'at-end' (every call announced with empty arguments, then all arguments at the end, as LM Studio does).
   */
  toolArgs?: 'streamed' | 'whole' | 'at-end';
  /** vLLM: `tool_calls: []` on every content chunk. */
  emptyToolCalls?: boolean;
  /** Usage (growing counts) on every chunk, whether or not the caller asked for it; summing it overcounts. */
  usageEveryChunk?: boolean;
  /** Members added to the finishing choice: vLLM's `stop_reason`, SGLang's `matched_stop` (the stop that ended it). */
  finishExtra?: Record<string, unknown>;
  /** After this many content chunks, send this body as a `data:` event and end the stream (the 200 is already out). */
  streamError?: { afterChunks: number; body: unknown };
  /** After this many content chunks, cut the connection (a model server crashing mid-stream; the 200 is out). */
  crashAfterChunks?: number;
}

type ToolCallScript = NonNullable<Script['toolCalls']>[number];

export const defaultScript = (): Script => ({
  chunks: ['Hello', ',', ' world', '!'],
  delayMs: 0,
  firstDelayMs: 0,
  finishReason: 'stop',
  usage: { prompt_tokens: 7, completion_tokens: 4 },
});

/**
 * A stand-in for an OpenAI-compatible model server (vLLM, llama.cpp, LM Studio): exact chat.completion and
 * chat.completion.chunk wire format, scripted timing, and a record of what it was asked and whether the caller
 * hung up. Emits 'request', 'aborted' and 'finished' with the SeenRequest.
 */
export class OpenAIUpstream extends ScriptedServer {
  active = 0;
  maxActive = 0;
  script: (body: Record<string, unknown>) => Script = () => defaultScript();
  /** What /v1/completions and (llama.cpp) /infill answer. */
  textScript: (body: Record<string, unknown>) => TextScript = () => defaultTextScript();
  /** Length of the vectors /v1/embeddings returns (unless the request sets `dimensions`). */
  embeddingDims = 8;
  /** Be llama.cpp's server: GET /props and POST /infill exist (else both are 404, as on vLLM). */
  llamacpp = false;
  /** vLLM's POST /tokenize: answers this many tokens (`count` and the `tokens` list); null = no such route (404). */
  tokenizeCount: number | null = null;

  constructor(readonly model = 'scripted-model') {
    super('OpenAI');
  }

  static async start(model?: string, port = 0): Promise<OpenAIUpstream> {
    const u = new OpenAIUpstream(model);
    await u.listen(port);
    return u;
  }

  private async tokenize(req: IncomingMessage, res: ServerResponse, n: number): Promise<void> {
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    const raw = Buffer.concat(parts);
    this.requests.push({ path: req.url!, body: JSON.parse(raw.toString('utf8')) as Record<string, unknown>, raw, headers: req.headers, aborted: false, finished: true });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ count: n, max_model_len: 32768, tokens: Array.from({ length: n }, (_, i) => i + 1) }));
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: this.model, object: 'model', created: 1700000000, owned_by: 'scripted' }] }));
      return;
    }
    if (this.llamacpp && req.method === 'GET' && req.url === '/props') return llamaProps(res, this.model);
    const legacy = req.method === 'POST' && (req.url === '/v1/completions' || req.url === '/v1/embeddings' || (this.llamacpp && req.url === '/infill'));
    if (legacy) return this.legacy(req, res, req.url!);
    if (req.method === 'POST' && req.url === '/tokenize' && this.tokenizeCount !== null) return this.tokenize(req, res, this.tokenizeCount);
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' } }));
      return;
    }
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    const raw = Buffer.concat(parts);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'invalid JSON', type: 'invalid_request_error' } }));
      return;
    }
    const seen: SeenRequest = { path: req.url, body, raw, headers: req.headers, aborted: false, finished: false };
    this.requests.push(seen);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    res.on('close', () => {
      this.active--;
      if (!seen.finished) {
        seen.aborted = true;
        this.emit('aborted', seen);
      }
    });
    this.emit('request', seen);
    const script = this.script(body);
    if (script.fail) {
      seen.finished = true;
      res.writeHead(script.fail.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(script.fail.body));
      this.emit('finished', seen);
      return;
    }
    const id = `chatcmpl-${Math.random().toString(36).slice(2, 10)}`;
    const created = Math.floor(Date.now() / 1000);
    const model = typeof body.model === 'string' ? body.model : this.model;
    if (body.stream === true) await this.stream(res, seen, script, id, created, model, body);
    else await this.complete(res, seen, script, id, created, model);
  }

  /** /v1/completions, /v1/embeddings and /infill (legacy-wire.ts). */
  private async legacy(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const seen = await receive(this, req, res);
    if (!seen) return;
    if (path === '/v1/embeddings') return openaiEmbeddings(this, seen, res, this.model, this.embeddingDims);
    if (path === '/infill') return llamaInfill(this, seen, res, this.textScript(seen.body), this.model);
    return openaiCompletions(this, seen, res, this.textScript(seen.body), this.model);
  }

  private async complete(res: ServerResponse, seen: SeenRequest, s: Script, id: string, created: number, model: string): Promise<void> {
    await sleep(s.firstDelayMs + s.delayMs * Math.max(0, s.chunks.length - 1));
    if (res.destroyed) return;
    seen.finished = true;
    if (s.streamError) {
      // Whole answers fail with a status (vLLM: 500 with its error object).
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify(s.streamError.body));
      this.emit('finished', seen);
      return;
    }
    const message: Record<string, unknown> = { role: 'assistant', content: s.chunks.length === 0 && s.toolCalls ? null : s.chunks.join('') };
    if (s.reasoning) message.reasoning_content = s.reasoning.join('');
    if (s.toolCalls) message.tool_calls = s.toolCalls.map((c, i) => ({ id: c.id ?? `call_${i}`, type: 'function', function: { name: c.name, arguments: c.arguments } }));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id, object: 'chat.completion', created, model,
        choices: [{ index: 0, message, logprobs: null, finish_reason: s.finishReason, ...s.finishExtra }],
        usage: { ...s.usage, total_tokens: s.usage.prompt_tokens + s.usage.completion_tokens },
      }),
    );
    this.emit('finished', seen);
  }

  private async stream(res: ServerResponse, seen: SeenRequest, s: Script, id: string, created: number, model: string, body: Record<string, unknown>): Promise<void> {
    const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    const total = (u: { prompt_tokens: number; completion_tokens: number }) => ({ ...u, total_tokens: u.prompt_tokens + u.completion_tokens });
    let produced = 0;
    const usageField = (): Record<string, unknown> => {
      if (s.usageEveryChunk) return { usage: total({ prompt_tokens: s.usage.prompt_tokens, completion_tokens: Math.min(produced, s.usage.completion_tokens) }) };
      return includeUsage ? { usage: null } : {};
    };
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      `data: ${JSON.stringify({
        id, object: 'chat.completion.chunk', created, model, system_fingerprint: null,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish, ...(finish === null ? {} : s.finishExtra) }],
        ...usageField(),
      })}\n\n`;
    const empty = s.emptyToolCalls ? { tool_calls: [] } : {};
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(chunk({ role: 'assistant', content: '', ...empty }, null));
    await sleep(s.firstDelayMs);
    let first = true;
    const write = async (text: () => string): Promise<boolean> => {
      if (!first) await sleep(s.delayMs);
      first = false;
      if (res.destroyed) return false;
      produced++;
      res.write(text());
      return true;
    };
    for (const r of s.reasoning ?? []) if (!(await write(() => chunk({ reasoning_content: r, ...empty }, null)))) return;
    for (let i = 0; i < s.chunks.length; i++) {
      if (s.streamError && i === s.streamError.afterChunks) return this.streamFailure(res, seen, s.streamError.body);
      if (s.crashAfterChunks === i) {
        seen.finished = true;
        res.socket?.destroy();
        return;
      }
      if (!(await write(() => chunk({ content: s.chunks[i], ...empty }, null)))) return;
    }
    if (s.streamError) return this.streamFailure(res, seen, s.streamError.body);
    for (const piece of toolDeltas(s.toolCalls ?? [], s.toolArgs ?? 'streamed')) if (!(await write(() => chunk({ tool_calls: [piece] }, null)))) return;
    await sleep(s.delayMs);
    if (res.destroyed) return;
    produced = s.usage.completion_tokens;
    let tail = chunk({}, s.finishReason);
    if (includeUsage) {
      tail += `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: null, choices: [], usage: total(s.usage) })}\n\n`;
    }
    seen.finished = true;
    res.end(`${tail}data: [DONE]\n\n`);
    this.emit('finished', seen);
  }

  private streamFailure(res: ServerResponse, seen: SeenRequest, body: unknown): void {
    if (res.destroyed) return;
    seen.finished = true;
    res.end(`data: ${JSON.stringify(body)}\n\n`);
    this.emit('finished', seen);
  }
}

/** The tool_calls delta entries a server sends for these calls, in order. */
function toolDeltas(calls: ToolCallScript[], mode: NonNullable<Script['toolArgs']>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const head = (c: ToolCallScript, i: number, args: string) => ({ index: i, id: c.id ?? `call_${i}`, type: 'function', function: { name: c.name, arguments: args } });
  calls.forEach((c, i) => {
    if (mode === 'whole') out.push(head(c, i, c.arguments));
    else if (mode === 'at-end') out.push(head(c, i, ''));
    else {
      out.push(head(c, i, ''));
      const third = Math.ceil(c.arguments.length / 3);
      for (let k = 0; k < c.arguments.length; k += third) out.push({ index: i, function: { arguments: c.arguments.slice(k, k + third) } });
    }
  });
  if (mode === 'at-end') calls.forEach((c, i) => out.push({ index: i, function: { arguments: c.arguments } }));
  return out;
}

/** Unref'd, so a long scripted delay never keeps a finished test process alive. */
function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms).unref()) : Promise.resolve();
}
