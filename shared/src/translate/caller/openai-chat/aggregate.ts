import type { Aggregator, CallerContext } from '../../adapter.js';
import type { ChatEvent, FinishReason, ToolCall } from '../../pivot.js';
import { completionId } from './stream.js';

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: 0;
    message: { role: 'assistant'; content: string | null; refusal: null; tool_calls?: ToolCall[]; reasoning_content?: string };
    logprobs: null;
    finish_reason: FinishReason;
  }>;
  /** Left out when the upstream reported no usage. */
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/**
 * ChatEvent -> one `chat.completion` body. `content` is null when the answer is only tool calls (as OpenAI
 * does), "" when it is empty. Error events are not the aggregator's business (the translator renders them).
 */
export class OpenAIChatAggregator implements Aggregator {
  private created: number | undefined;
  private readonly text: string[] = [];
  private readonly reasoning: string[] = [];
  private readonly tools: Array<{ id: string; name: string; args: string[] }> = [];
  private reason: FinishReason | undefined;
  private usage: { input_tokens: number; output_tokens: number } | undefined;

  constructor(
    private readonly ctx: CallerContext,
    private readonly now: () => number = Date.now,
  ) {}

  push(event: ChatEvent): void {
    switch (event.type) {
      case 'start':
        this.created ??= event.created;
        break;
      case 'text':
        this.text.push(event.text);
        break;
      case 'reasoning':
        this.reasoning.push(event.text);
        break;
      case 'tool_call':
        this.tools[event.index] = { id: event.id, name: event.name, args: [] };
        break;
      case 'tool_args':
        this.tools[event.index]?.args.push(event.delta);
        break;
      case 'finish':
        this.reason ??= event.reason;
        break;
      case 'usage':
        this.usage = { input_tokens: event.input_tokens, output_tokens: event.output_tokens };
        break;
      case 'error':
        break;
    }
  }

  result(): ChatCompletion {
    const calls: ToolCall[] = [];
    for (const t of this.tools) {
      if (t !== undefined) calls.push({ id: t.id, type: 'function', function: { name: t.name, arguments: t.args.join('') } });
    }
    const text = this.text.join('');
    const message: ChatCompletion['choices'][number]['message'] = {
      role: 'assistant',
      content: text.length === 0 && calls.length > 0 ? null : text,
      refusal: null,
    };
    if (calls.length > 0) message.tool_calls = calls;
    if (this.reasoning.length > 0) message.reasoning_content = this.reasoning.join('');
    const body: ChatCompletion = {
      id: completionId(this.ctx),
      object: 'chat.completion',
      created: this.created ?? Math.floor(this.now() / 1000),
      model: this.ctx.model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: this.reason ?? (calls.length > 0 ? 'tool_calls' : 'stop') }],
    };
    if (this.usage !== undefined) {
      const { input_tokens: p, output_tokens: c } = this.usage;
      body.usage = { prompt_tokens: p, completion_tokens: c, total_tokens: p + c };
    }
    return body;
  }
}
