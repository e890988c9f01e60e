import type { Aggregator, CallerContext } from '../../adapter.js';
import { AnswerCollector, type AnswerPart } from '../answer.js';
import { messageId, stopOf, toolUseId } from './shape.js';

/**
 * Pivot events -> the Messages API `message` object (non-streamed).
 *
 * Tool `input` is the parsed argument text; text that is empty, not JSON, or not a JSON object becomes `{}`
 * (the Messages API requires an object, and clients validate it against the tool schema anyway).
 * An upstream error makes `result()` throw a TokiosError, to be rendered as an error body.
 */
export function createAnthropicAggregator(ctx: CallerContext): Aggregator {
  const answer = new AnswerCollector();
  return {
    push: (event) => answer.push(event),
    result() {
      if (answer.failure) throw answer.failure;
      return {
        id: messageId(ctx),
        type: 'message',
        role: 'assistant',
        model: ctx.model,
        content: answer.parts.map((part) => block(ctx, part)),
        ...stopOf(ctx, answer.finish ?? null, answer.stopSequence, answer.toolCount > 0),
        usage: answer.usage ?? { input_tokens: 0, output_tokens: 0 },
      };
    },
  };
}

function block(ctx: CallerContext, part: AnswerPart): object {
  switch (part.kind) {
    case 'text':
      return { type: 'text', text: part.text };
    case 'reasoning':
      return { type: 'thinking', thinking: part.text, signature: '' };
    case 'tool':
      return { type: 'tool_use', id: toolUseId(ctx, part.id, part.index), name: part.name, input: parseInput(part.args) };
  }
}

function parseInput(text: string): Record<string, unknown> {
  if (text.trim().length === 0) return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
