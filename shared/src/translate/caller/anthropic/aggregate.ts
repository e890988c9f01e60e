import type { Aggregator, CallerContext } from '../../adapter.js';
import type { FinishReason } from '../../pivot.js';
import { TokiosError, isErrorCode } from '../../../errors/registry.js';
import { messageId, stopReason, toolUseId, type Usage } from './shape.js';

type Block =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'tool_use'; id: string; name: string; args: string };

/**
 * Pivot events -> the Messages API `message` object (non-streamed).
 *
 * Tool `input` is the parsed argument text; text that is empty, not JSON, or not a JSON object becomes `{}`
 * (the Messages API requires an object, and clients validate it against the tool schema anyway).
 * An upstream error makes `result()` throw a TokiosError, to be rendered as an error body.
 */
export function createAnthropicAggregator(ctx: CallerContext): Aggregator {
  const blocks: Block[] = [];
  const tools = new Map<number, Block & { type: 'tool_use' }>();
  let finish: FinishReason | null = null;
  let usage: Usage = { input_tokens: 0, output_tokens: 0 };
  let failure: TokiosError | null = null;

  return {
    push(event) {
      const last = blocks.at(-1);
      switch (event.type) {
        case 'text':
          if (event.text.length === 0) return;
          if (last?.type === 'text') last.text += event.text;
          else blocks.push({ type: 'text', text: event.text });
          return;
        case 'reasoning':
          if (event.text.length === 0) return;
          if (last?.type === 'thinking') last.thinking += event.text;
          else blocks.push({ type: 'thinking', thinking: event.text, signature: '' });
          return;
        case 'tool_call': {
          const block = { type: 'tool_use' as const, id: toolUseId(ctx, event.id, event.index), name: event.name, args: '' };
          tools.set(event.index, block);
          blocks.push(block);
          return;
        }
        case 'tool_args': {
          const block = tools.get(event.index);
          if (block) block.args += event.delta;
          else failure ??= new TokiosError('protocol_error', 'Tool call arguments arrived before their tool call.');
          return;
        }
        case 'finish':
          finish = event.reason;
          return;
        case 'usage':
          usage = { input_tokens: event.input_tokens, output_tokens: event.output_tokens };
          return;
        case 'error':
          failure ??= new TokiosError(isErrorCode(event.code) ? event.code : 'upstream_error', event.message);
          return;
        case 'start':
          return;
      }
    },
    result() {
      if (failure) throw failure;
      return {
        id: messageId(ctx),
        type: 'message',
        role: 'assistant',
        model: ctx.model,
        content: blocks.map(finalBlock),
        stop_reason: stopReason(finish, tools.size > 0),
        stop_sequence: null,
        usage,
      };
    },
  };
}

function finalBlock(block: Block): object {
  if (block.type !== 'tool_use') return block;
  return { type: 'tool_use', id: block.id, name: block.name, input: parseInput(block.args) };
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
