import type { ErrorCode } from '../../errors/registry.js';
import type { Aggregator, CallerContext, StreamEncoder } from '../adapter.js';
import { openaiStreamError } from '../caller/openai-chat/stream.js';
import type { ChatEvent, FinishReason } from '../pivot.js';

const DONE = 'data: [DONE]\n\n';

/** Legacy completions have no tool calls: a finish for them (never sent by the completion upstreams) reads `stop`. */
const FINISH_REASONS = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'stop',
  content_filter: 'content_filter',
} as const satisfies Record<FinishReason, 'stop' | 'length' | 'content_filter'>;

/** The id every chunk (and the whole answer) of one request carries. */
export function textCompletionId(ctx: CallerContext): string {
  return `cmpl-${ctx.requestId}`;
}

interface Tokens {
  input_tokens: number;
  output_tokens: number;
}

function usageJson(u: Tokens): string {
  return `{"prompt_tokens":${u.input_tokens},"completion_tokens":${u.output_tokens},"total_tokens":${u.input_tokens + u.output_tokens}}`;
}

/**
 * ChatEvent -> OpenAI `text_completion` SSE chunks, as api.openai.com streams them: one id (`cmpl-<requestId>`),
 * `created` and `model` (the deployment name) for the whole stream; one chunk per text piece
 * `{"text", "index":0, "logprobs":null, "finish_reason":null}`, a last chunk with empty text and the finish reason;
 * with `includeUsage`, `usage: null` on every chunk and a last `choices: []` chunk carrying the usage; `data: [DONE]`.
 * Reasoning and tool events have no place in a completion and are dropped (the completion upstreams send none).
 */
export class CompletionsStreamEncoder implements StreamEncoder {
  private head = '';
  private readonly tail: string;
  private finished = false;
  private closed = false;
  private usage: Tokens | undefined;

  constructor(
    private readonly ctx: CallerContext,
    private readonly now: () => number = Date.now,
  ) {
    this.tail = ctx.includeUsage === true ? ',"usage":null}\n\n' : '}\n\n';
  }

  push(event: ChatEvent): string {
    if (this.closed) return '';
    switch (event.type) {
      case 'start':
        this.begin(event.created);
        return '';
      case 'text':
        return event.text.length === 0 ? '' : this.choice(JSON.stringify(event.text), 'null');
      case 'finish':
        return this.finish(event.reason);
      case 'usage':
        this.usage = { input_tokens: event.input_tokens, output_tokens: event.output_tokens };
        return '';
      case 'error':
        return this.fail(event);
      case 'reasoning':
      case 'tool_call':
      case 'tool_args':
        return '';
    }
  }

  end(): string {
    if (this.closed) return '';
    let out = this.finish('stop');
    if (this.ctx.includeUsage === true && this.usage !== undefined) out += `${this.head}[],"usage":${usageJson(this.usage)}}\n\n`;
    this.closed = true;
    return out + DONE;
  }

  fail(error: { code: ErrorCode | string; message: string }): string {
    if (this.closed) return '';
    this.closed = true;
    return openaiStreamError(error);
  }

  private begin(created: number): void {
    if (this.head !== '') return;
    this.head = `data: {"id":${JSON.stringify(textCompletionId(this.ctx))},"object":"text_completion","created":${created},"model":${JSON.stringify(this.ctx.model)},"choices":`;
  }

  private choice(text: string, finish: string): string {
    this.begin(Math.floor(this.now() / 1000));
    return `${this.head}[{"text":${text},"index":0,"logprobs":null,"finish_reason":${finish}}]${this.tail}`;
  }

  private finish(reason: FinishReason): string {
    if (this.finished) return '';
    this.finished = true;
    return this.choice('""', `"${FINISH_REASONS[reason]}"`);
  }
}

/** The whole `text_completion` object. */
export interface TextCompletion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: Array<{ text: string; index: number; logprobs: null; finish_reason: 'stop' | 'length' | 'content_filter' }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** ChatEvent -> one `text_completion` object (non-streamed callers). */
export class CompletionsAggregator implements Aggregator {
  private created: number | undefined;
  private text = '';
  private reason: FinishReason = 'stop';
  private usage: Tokens | undefined;

  constructor(
    private readonly ctx: CallerContext,
    private readonly now: () => number = Date.now,
  ) {}

  push(event: ChatEvent): void {
    if (event.type === 'start') this.created ??= event.created;
    else if (event.type === 'text') this.text += event.text;
    else if (event.type === 'finish') this.reason = event.reason;
    else if (event.type === 'usage') this.usage = { input_tokens: event.input_tokens, output_tokens: event.output_tokens };
  }

  result(): TextCompletion {
    const out: TextCompletion = {
      id: textCompletionId(this.ctx),
      object: 'text_completion',
      created: this.created ?? Math.floor(this.now() / 1000),
      model: this.ctx.model,
      choices: [{ text: this.text, index: 0, logprobs: null, finish_reason: FINISH_REASONS[this.reason] }],
    };
    if (this.usage !== undefined) {
      const { input_tokens: p, output_tokens: c } = this.usage;
      out.usage = { prompt_tokens: p, completion_tokens: c, total_tokens: p + c };
    }
    return out;
  }
}
