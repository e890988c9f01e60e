import { TokiosError } from '../../errors/registry.js';
import type { Usage } from '../../protocol/meta.js';
import { EMPTY, JSON_CONTENT_TYPE, type AnswerTranslator, type UpstreamPlan } from '../answer/translator.js';
import { upstreamErrorAnswer } from '../answer/upstream-error.js';
import { parseAnthropicRequest } from '../caller/anthropic/request.js';
import { Ignored } from '../caller/ignored.js';
import type { PlanMeta, UpstreamTarget } from '../plan.js';
import type { ChatRequest } from '../pivot.js';
import { buildOllamaRequest } from '../upstream/ollama/request.js';
import { buildOpenAIRequest } from '../upstream/openai/request.js';
import { count, isRecord, parseJson } from '../util.js';

/** vLLM's and llama.cpp's tokenizer endpoint. */
export const TOKENIZE_PATH = '/tokenize';
/** The documented estimate where the model server cannot count: about four characters of prompt per token. */
export const CHARS_PER_TOKEN = 4;
/** count_tokens bodies carry no max_tokens; the Messages parser needs one (any bound: nothing is generated). */
const NO_LIMIT = 2 ** 31 - 1;
/** A tokenizer answer larger than this is not read (one token id per token: ~8 MiB is far beyond any context). */
const MAX_ANSWER = 8 * 1024 * 1024;

/**
 * POST /v1/messages/count_tokens: the Messages body (validated by the same policy, without max_tokens) is counted by
 * the model server where it can: Ollama by a generation of zero tokens (`num_predict: 0`, its `prompt_eval_count`),
 * OpenAI-compatible servers by `/tokenize` (vLLM applies the chat template to `messages` and answers `count`;
 * llama.cpp tokenizes `content`, the prompt's text, and answers `tokens`). When the server cannot count (no such
 * endpoint, an error, a malformed answer), the answer is an estimate: the characters of the prompt (system,
 * messages, tools as JSON) divided by CHARS_PER_TOKEN, rounded up. A model the server does not have is a 404.
 */
export function planCountTokens(meta: PlanMeta, raw: Buffer, upstream: UpstreamTarget): UpstreamPlan {
  const parsed = parseJson(raw.toString('utf8'));
  if (!parsed.ok) throw new TokiosError('invalid_json');
  if (!isRecord(parsed.value)) throw new TokiosError('invalid_request', 'body: must be a JSON object', { param: 'body' });
  const ignored = new Ignored();
  const req = parseAnthropicRequest({ ...parsed.value, max_tokens: NO_LIMIT, stream: false }, ignored);
  const estimate = estimateTokens(req);
  const request = upstream.kind === 'ollama' ? ollamaCount(req, upstream.model) : tokenize(req, upstream.model);
  return {
    ...request,
    ignored: ignored.list(),
    translate(status) {
      // Ollama's 404 names the model; an OpenAI-compatible server without /tokenize answers 404 too (estimate).
      if (status === 404 && upstream.kind === 'ollama') return upstreamErrorAnswer(meta.protocol, upstream.kind, status);
      return new CountAnswer(status >= 200 && status < 300 ? upstream.kind : null, estimate);
    },
  };
}

function ollamaCount(req: ChatRequest, model: string): { path: string; body: string; headers: Record<string, string> } {
  const built = buildOllamaRequest({ ...req, max_tokens: undefined }, { model });
  const body = JSON.parse(built.body) as Record<string, unknown>;
  body['stream'] = false;
  body['options'] = { ...(isRecord(body['options']) ? body['options'] : {}), num_predict: 0 };
  return { path: built.path, body: JSON.stringify(body), headers: { 'content-type': 'application/json', accept: 'application/json' } };
}

function tokenize(req: ChatRequest, model: string): { path: string; body: string; headers: Record<string, string> } {
  const chat = JSON.parse(buildOpenAIRequest({ ...req, max_tokens: undefined }, { model }).body) as Record<string, unknown>;
  const body: Record<string, unknown> = { model, messages: chat['messages'], add_generation_prompt: true, content: promptText(req) };
  if (chat['tools'] !== undefined) body['tools'] = chat['tools'];
  return { path: TOKENIZE_PATH, body: JSON.stringify(body), headers: { 'content-type': 'application/json', accept: 'application/json' } };
}

/** The prompt's text as one string: what the estimate counts and llama.cpp tokenizes. */
function promptText(req: ChatRequest): string {
  let text = '';
  for (const m of req.messages) {
    const content = m.content;
    if (typeof content === 'string') text += content + '\n';
    else if (Array.isArray(content)) for (const p of content) if (p.type === 'text') text += p.text + '\n';
    if (m.role === 'assistant' && m.tool_calls !== undefined) for (const c of m.tool_calls) text += `${c.function.name} ${c.function.arguments}\n`;
  }
  if (req.tools !== undefined) text += JSON.stringify(req.tools);
  return text;
}

export function estimateTokens(req: ChatRequest): number {
  return Math.ceil(promptText(req).length / CHARS_PER_TOKEN);
}

/** The server's count, or the estimate; always `{"input_tokens": n}` with 200. No usage: nothing was generated. */
class CountAnswer implements AnswerTranslator {
  readonly headFirst = false;
  readonly contentType = JSON_CONTENT_TYPE;
  private parts: Buffer[] = [];
  private size = 0;

  constructor(
    /** Whose answer format to read; null when the server failed (the estimate is used). */
    private readonly kind: UpstreamTarget['kind'] | null,
    private readonly estimate: number,
  ) {}

  status(): number {
    return 200;
  }

  usage(): Usage | undefined {
    return undefined;
  }

  push(chunk: Buffer): Buffer {
    this.size += chunk.length;
    if (this.kind !== null && this.size <= MAX_ANSWER) this.parts.push(Buffer.from(chunk));
    return EMPTY;
  }

  end(): string {
    const counted = this.kind !== null && this.size <= MAX_ANSWER ? this.read(Buffer.concat(this.parts).toString('utf8')) : undefined;
    this.parts = [];
    return JSON.stringify({ input_tokens: counted ?? this.estimate });
  }

  fail(): string {
    return JSON.stringify({ input_tokens: this.estimate });
  }

  private read(body: string): number | undefined {
    const parsed = parseJson(body);
    if (!parsed.ok || !isRecord(parsed.value)) return undefined;
    const v = parsed.value;
    if (this.kind === 'ollama') return count(v['prompt_eval_count']);
    return count(v['count']) ?? (Array.isArray(v['tokens']) ? v['tokens'].length : undefined);
  }
}
