import type { IncomingMessage, ServerResponse } from 'node:http';
import { ScriptedServer, type SeenRequest } from './scripted-server.js';
import { defaultTextScript, ollamaEmbed, ollamaGenerate, receive, type TextScript } from './legacy-wire.js';

/** One tool call as Ollama sends it: whole, `arguments` an object. */
export interface OllamaToolCallScript {
  name: string;
  arguments: Record<string, unknown>;
  /** Newer Ollama versions send `id: "call_…"`; older ones none. */
  id?: string;
}

/** What the scripted Ollama answers to one /api/chat request. */
export interface OllamaScript {
  /** `message.thinking` pieces (one line each), before the content. */
  thinking?: string[];
  /** `message.content` pieces, one line each. */
  chunks: string[];
  toolCalls?: OllamaToolCallScript[];
  /**
   * Where the tool calls go in a stream: 'with-done' (default) puts them on the `done: true` line; 'separate' sends
   * them on their own `done: false` line before a `done: true` line with empty content (what newer Ollama does, and
   * the case gateways mislabel as `stop`).
   */
  toolCallLine?: 'with-done' | 'separate';
  doneReason: 'stop' | 'length' | 'load';
  usage: { prompt_eval_count?: number; eval_count: number };
  /** Delay before each line after the first (ms). */
  delayMs: number;
  /** Delay before the first line (prefill). */
  firstDelayMs: number;
  /** After this many content lines, send `{"error": message}` and end the body (the 200 is already out). */
  streamError?: { afterChunks: number; message: string };
  /** Answer with this HTTP status and body instead. */
  fail?: { status: number; body: unknown };
  /** Nothing is written until this settles (a test holds the answer open, e.g. to keep a slot busy). */
  hold?: Promise<void>;
}

export const defaultOllamaScript = (): OllamaScript => ({
  chunks: ['Hello', ',', ' world', '!'],
  doneReason: 'stop',
  usage: { prompt_eval_count: 7, eval_count: 4 },
  delayMs: 0,
  firstDelayMs: 0,
});

/**
 * A stand-in for Ollama's native API (docs/api.md): GET /api/version, GET /api/tags, GET /v1/models (its OpenAI
 * layer, so detection has to prefer the native API), POST /api/generate and /api/embed (legacy-wire.ts), POST /api/chat streaming NDJSON unless `stream: false`
 * (streaming is the default), one JSON object otherwise. Unknown models get Ollama's 404. Records every chat
 * request and whether the caller hung up; emits 'request', 'aborted' and 'finished' with the SeenRequest.
 */
export class OllamaUpstream extends ScriptedServer {
  script: (body: Record<string, unknown>) => OllamaScript = () => defaultOllamaScript();
  version = '0.12.6';
  /** What /api/generate answers (legacy completions, fill-in-the-middle). */
  textScript: (body: Record<string, unknown>) => TextScript = () => defaultTextScript();
  /** Length of the vectors /api/embed returns (unless the request sets `dimensions`). */
  embeddingDims = 8;

  constructor(readonly models: string[] = ['llama3.2:latest']) {
    super('Ollama');
  }

  static async start(models?: string[]): Promise<OllamaUpstream> {
    const u = new OllamaUpstream(models);
    await u.listen();
    return u;
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url === '/api/version') return this.json(res, 200, { version: this.version });
    if (req.method === 'GET' && req.url === '/api/tags') {
      return this.json(res, 200, {
        models: this.models.map((name) => ({
          name,
          model: name,
          modified_at: '2025-01-01T00:00:00.000000000Z',
          size: 2019393189,
          digest: 'a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72',
          details: { parent_model: '', format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '3.2B', quantization_level: 'Q4_K_M' },
        })),
      });
    }
    if (req.method === 'GET' && req.url === '/v1/models') {
      return this.json(res, 200, { object: 'list', data: this.models.map((id) => ({ id, object: 'model', created: 1735689600, owned_by: 'library' })) });
    }
    if (req.method === 'POST' && (req.url === '/api/generate' || req.url === '/api/embed')) return this.legacy(req, res, req.url);
    if (req.method !== 'POST' || req.url !== '/api/chat') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('404 page not found');
      return;
    }
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    const raw = Buffer.concat(parts);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      return this.json(res, 400, { error: 'invalid character in JSON body' });
    }
    const seen: SeenRequest = { path: req.url, body, raw, headers: req.headers, aborted: false, finished: false };
    this.requests.push(seen);
    res.on('close', () => {
      if (!seen.finished) {
        seen.aborted = true;
        this.emit('aborted', seen);
      }
    });
    this.emit('request', seen);
    const model = typeof body.model === 'string' ? body.model : '';
    const finishWith = (status: number, payload: unknown): void => {
      seen.finished = true;
      this.json(res, status, payload);
      this.emit('finished', seen);
    };
    if (!this.models.includes(model) && !this.models.includes(`${model}:latest`)) {
      return finishWith(404, { error: `model "${model}" not found, try pulling it first` });
    }
    const script = this.script(body);
    if (script.hold) await script.hold;
    if (script.fail) return finishWith(script.fail.status, script.fail.body);
    // Ollama streams unless told otherwise.
    if (body.stream === false) await this.complete(res, seen, script, model);
    else await this.stream(res, seen, script, model);
  }

  /** /api/generate and /api/embed (legacy-wire.ts); unknown models get Ollama's 404 like /api/chat. */
  private async legacy(req: IncomingMessage, res: ServerResponse, path: '/api/generate' | '/api/embed'): Promise<void> {
    const seen = await receive(this, req, res);
    if (!seen) return;
    const model = typeof seen.body.model === 'string' ? seen.body.model : '';
    if (!this.models.includes(model) && !this.models.includes(`${model}:latest`)) {
      seen.finished = true;
      this.json(res, 404, { error: `model "${model}" not found, try pulling it first` });
      this.emit('finished', seen);
      return;
    }
    if (path === '/api/embed') return ollamaEmbed(this, seen, res, model, this.embeddingDims);
    return ollamaGenerate(this, seen, res, this.textScript(seen.body), model);
  }

  private async complete(res: ServerResponse, seen: SeenRequest, s: OllamaScript, model: string): Promise<void> {
    await sleep(s.firstDelayMs + s.delayMs * Math.max(0, s.chunks.length - 1));
    if (res.destroyed) return;
    seen.finished = true;
    if (s.streamError) {
      this.json(res, 500, { error: s.streamError.message });
      this.emit('finished', seen);
      return;
    }
    const message: Record<string, unknown> = { role: 'assistant', content: s.chunks.join('') };
    if (s.thinking) message.thinking = s.thinking.join('');
    if (s.toolCalls) message.tool_calls = s.toolCalls.map(wireCall);
    this.json(res, 200, { model, created_at: new Date().toISOString(), message, ...doneFields(s) });
    this.emit('finished', seen);
  }

  private async stream(res: ServerResponse, seen: SeenRequest, s: OllamaScript, model: string): Promise<void> {
    const line = (message: Record<string, unknown>, extra: Record<string, unknown> = { done: false }) =>
      `${JSON.stringify({ model, created_at: new Date().toISOString(), message: { role: 'assistant', content: '', ...message }, ...extra })}\n`;
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    await sleep(s.firstDelayMs);
    let first = true;
    const write = async (text: string): Promise<boolean> => {
      if (!first) await sleep(s.delayMs);
      first = false;
      if (res.destroyed) return false;
      res.write(text);
      return true;
    };
    for (const piece of s.thinking ?? []) if (!(await write(line({ thinking: piece })))) return;
    for (let i = 0; i < s.chunks.length; i++) {
      if (s.streamError && i === s.streamError.afterChunks) return this.streamFailure(res, seen, s.streamError.message);
      if (!(await write(line({ content: s.chunks[i] })))) return;
    }
    if (s.streamError) return this.streamFailure(res, seen, s.streamError.message);
    const calls = s.toolCalls?.map(wireCall);
    if (calls && s.toolCallLine === 'separate' && !(await write(line({ tool_calls: calls })))) return;
    const last = line(calls && s.toolCallLine !== 'separate' ? { tool_calls: calls } : {}, doneFields(s));
    await sleep(s.delayMs);
    if (res.destroyed) return;
    seen.finished = true;
    res.end(last);
    this.emit('finished', seen);
  }

  private streamFailure(res: ServerResponse, seen: SeenRequest, message: string): void {
    if (res.destroyed) return;
    seen.finished = true;
    res.end(`${JSON.stringify({ error: message })}\n`);
    this.emit('finished', seen);
  }
}

function wireCall(c: OllamaToolCallScript): Record<string, unknown> {
  return c.id === undefined ? { function: { name: c.name, arguments: c.arguments } } : { id: c.id, function: { name: c.name, arguments: c.arguments } };
}

function doneFields(s: OllamaScript): Record<string, unknown> {
  const out: Record<string, unknown> = { done_reason: s.doneReason, done: true, total_duration: 4883583458, load_duration: 1334875 };
  if (s.usage.prompt_eval_count !== undefined) {
    out.prompt_eval_count = s.usage.prompt_eval_count;
    out.prompt_eval_duration = 342546000;
  }
  out.eval_count = s.usage.eval_count;
  out.eval_duration = 4535599000;
  return out;
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}
