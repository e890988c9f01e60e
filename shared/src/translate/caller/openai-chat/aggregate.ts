import type { Aggregator, CallerContext } from '../../adapter.js';
import type { ChatEvent, FinishReason, ToolCall } from '../../pivot.js';
import { completionId } from './stream.js';
import { AnswerCollector } from '../answer.js';

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
  private readonly answer = new AnswerCollector();

  constructor(
    private readonly ctx: CallerContext,
    private readonly now: () => number = Date.now,
  ) {}

  push(event: ChatEvent): void {
    this.answer.push(event);
  }

  result(): ChatCompletion {
    const { parts, usage, finish, created } = this.answer;
    const calls: ToolCall[] = [];
    let text = '';
    let reasoning = '';
    for (const p of parts) {
      if (p.kind === 'tool') calls.push({ id: p.id, type: 'function', function: { name: p.name, arguments: p.args } });
      else if (p.kind === 'text') text += p.text;
      else reasoning += p.text;
    }
    const message: ChatCompletion['choices'][number]['message'] = {
      role: 'assistant',
      content: text.length === 0 && calls.length > 0 ? null : text,
      refusal: null,
    };
    if (calls.length > 0) message.tool_calls = calls;
    if (reasoning.length > 0) message.reasoning_content = reasoning;
    const body: ChatCompletion = {
      id: completionId(this.ctx),
      object: 'chat.completion',
      created: created ?? Math.floor(this.now() / 1000),
      model: this.ctx.model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finish ?? (calls.length > 0 ? 'tool_calls' : 'stop') }],
    };
    if (usage !== undefined) {
      const { input_tokens: p, output_tokens: c } = usage;
      body.usage = { prompt_tokens: p, completion_tokens: c, total_tokens: p + c };
    }
    return body;
  }
}
