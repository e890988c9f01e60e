import type { Aggregator, CallerContext } from '../../adapter.js';
import type { FinishReason } from '../../pivot.js';
import { TokiosError, isErrorCode } from '../../../errors/registry.js';
import { TERMINAL } from './maps.js';
import {
  callId,
  envelope,
  finalArgs,
  functionCallItem,
  itemId,
  messageItem,
  outputText,
  reasoningItem,
  reasoningText,
  type ItemStatus,
  type Usage,
} from './shape.js';

type Item =
  | { kind: 'message' | 'reasoning'; text: string }
  | { kind: 'function_call'; callId: string; name: string; args: string };

/**
 * Pivot events -> the Response object (non-streamed). Items follow the answer's order: consecutive text joins one
 * message item, reasoning its own reasoning item, each tool call one function_call item with its raw argument text
 * (the API returns arguments as a string, so invalid JSON is passed through for the client to handle).
 * An upstream error makes `result()` throw a TokiosError, to be rendered as an error body.
 */
export function createResponsesAggregator(ctx: CallerContext): Aggregator {
  const items: Item[] = [];
  const tools = new Map<number, Extract<Item, { kind: 'function_call' }>>();
  let createdAt: number | null = null;
  let finish: FinishReason | null = null;
  let usage: Usage = { input_tokens: 0, output_tokens: 0 };
  let failure: TokiosError | null = null;

  function append(kind: 'message' | 'reasoning', text: string): void {
    if (text.length === 0) return;
    const last = items.at(-1);
    if (last?.kind === kind) last.text += text;
    else items.push({ kind, text });
  }

  return {
    push(event) {
      switch (event.type) {
        case 'start':
          createdAt ??= event.created;
          return;
        case 'text':
          return append('message', event.text);
        case 'reasoning':
          return append('reasoning', event.text);
        case 'tool_call': {
          const item = { kind: 'function_call' as const, callId: callId(ctx, event.id, event.index), name: event.name, args: '' };
          tools.set(event.index, item);
          items.push(item);
          return;
        }
        case 'tool_args': {
          const item = tools.get(event.index);
          if (item) item.args += event.delta;
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
      }
    },
    result() {
      if (failure) throw failure;
      const terminal = TERMINAL[finish ?? (tools.size > 0 ? 'tool_calls' : 'stop')];
      const last = items.length - 1;
      const output = items.map((item, i) => {
        const status: ItemStatus = i === last && terminal.status === 'incomplete' ? 'incomplete' : 'completed';
        const id = itemId(ctx, item.kind, i);
        if (item.kind === 'function_call') return functionCallItem(id, status, { ...item, args: finalArgs(item.args) });
        return item.kind === 'message' ? messageItem(id, status, [outputText(item.text)]) : reasoningItem(id, status, [reasoningText(item.text)]);
      });
      return envelope(ctx, {
        createdAt: createdAt ?? Math.floor(Date.now() / 1000),
        status: terminal.status,
        output,
        usage,
        incomplete_details: terminal.incomplete_details,
      });
    },
  };
}
