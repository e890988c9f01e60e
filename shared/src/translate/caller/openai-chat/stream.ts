import { isErrorCode, type ErrorCode } from '../../../errors/registry.js';
import { openaiErrorBody } from '../../../errors/render.js';
import type { CallerContext, StreamEncoder } from '../../adapter.js';
import type { ChatEvent, FinishReason } from '../../pivot.js';

const DONE = 'data: [DONE]\n\n';

/** The id every chunk (and the aggregated answer) of one request carries. */
export function completionId(ctx: CallerContext): string {
  return `chatcmpl-${ctx.requestId}`;
}

/** An error as an OpenAI `data:` line. Codes outside the registry are shown as upstream_error. */
export function openaiStreamError(error: { code: string; message: string }): string {
  const code: ErrorCode = isErrorCode(error.code) ? error.code : 'upstream_error';
  return `data: ${JSON.stringify(openaiErrorBody(code, error.message))}\n\n`;
}

/**
 * ChatEvent -> OpenAI chat.completion.chunk SSE.
 *
 * One id (`chatcmpl-<requestId>`), `created` and `model` (the deployment name) for the whole stream. First chunk
 * `{role:"assistant", content:""}`; tool calls as `{index,id,type,function:{name,arguments:""}}` then
 * `{index,function:{arguments}}`; reasoning as `reasoning_content` deltas (the field vLLM, llama.cpp, LM Studio
 * and DeepSeek use); a finish chunk with an empty delta; with `ctx.includeUsage` every chunk has `usage: null`
 * and a last chunk `choices: []` carries the usage (left out when the upstream reported none); `data: [DONE]`.
 * Errors: `data: {"error":{…}}` and the stream ends. The chunk envelope is built once; per token only the delta
 * is serialized.
 */
export class OpenAIChatStreamEncoder implements StreamEncoder {
  private head = '';
  private readonly tail: string;
  private started = false;
  private finished = false;
  private closed = false;
  private usage: { input_tokens: number; output_tokens: number } | undefined;

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
        return this.start(event.created);
      case 'text':
        return this.ensureStarted() + this.delta(`{"content":${JSON.stringify(event.text)}}`);
      case 'reasoning':
        return this.ensureStarted() + this.delta(`{"reasoning_content":${JSON.stringify(event.text)}}`);
      case 'tool_call':
        return (
          this.ensureStarted() +
          this.delta(`{"tool_calls":[{"index":${event.index},"id":${JSON.stringify(event.id)},"type":"function","function":{"name":${JSON.stringify(event.name)},"arguments":""}}]}`)
        );
      case 'tool_args':
        if (event.delta.length === 0) return '';
        return this.ensureStarted() + this.delta(`{"tool_calls":[{"index":${event.index},"function":{"arguments":${JSON.stringify(event.delta)}}}]}`);
      case 'finish':
        return this.ensureStarted() + this.finish(event.reason);
      case 'usage':
        this.usage = { input_tokens: event.input_tokens, output_tokens: event.output_tokens };
        return '';
      case 'error':
        return this.fail(event);
    }
  }

  end(): string {
    if (this.closed) return '';
    let out = this.ensureStarted();
    if (!this.finished) out += this.finish('stop');
    if (this.ctx.includeUsage === true && this.usage !== undefined) {
      const { input_tokens: p, output_tokens: c } = this.usage;
      out += `${this.head}[],"usage":{"prompt_tokens":${p},"completion_tokens":${c},"total_tokens":${p + c}}}\n\n`;
    }
    this.closed = true;
    return out + DONE;
  }

  fail(error: { code: ErrorCode | string; message: string }): string {
    if (this.closed) return '';
    this.closed = true;
    return openaiStreamError(error);
  }

  private start(created: number): string {
    if (this.started) return '';
    this.started = true;
    this.head = `data: {"id":${JSON.stringify(completionId(this.ctx))},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(this.ctx.model)},"choices":`;
    return this.delta('{"role":"assistant","content":""}');
  }

  private ensureStarted(): string {
    return this.started ? '' : this.start(Math.floor(this.now() / 1000));
  }

  private delta(delta: string): string {
    return `${this.head}[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":null}]${this.tail}`;
  }

  private finish(reason: FinishReason): string {
    if (this.finished) return '';
    this.finished = true;
    return `${this.head}[{"index":0,"delta":{},"logprobs":null,"finish_reason":"${reason}"}]${this.tail}`;
  }
}
