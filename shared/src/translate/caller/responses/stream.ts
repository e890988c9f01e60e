import type { CallerContext, StreamEncoder } from '../../adapter.js';
import type { ChatEvent, FinishReason } from '../../pivot.js';
import { TERMINAL } from './maps.js';
import {
  callId,
  envelope,
  failedError,
  finalArgs,
  functionCallItem,
  callerToolName,
  type CallerToolName,
  itemId,
  messageItem,
  outputText,
  reasoningItem,
  reasoningText,
  type ItemStatus,
  type Usage,
} from './shape.js';
import { typedSse as sse } from '../typed-sse.js';

type Open =
  | { kind: 'message' | 'reasoning'; index: number; id: string; text: string }
  | { kind: 'function_call'; index: number; id: string; toolIndex: number; callId: string; tool: CallerToolName; args: string };

/**
 * Pivot events -> Responses API SSE.
 *
 * `response.created`, `response.in_progress`, then one output item at a time: `output_item.added`, for text and
 * reasoning a `content_part.added`, deltas, the `.done` events with the full text or arguments (always, even when no
 * delta came; a call that streamed no arguments gets `{}`), `content_part.done`, `output_item.done`; then
 * `response.completed`, or `response.incomplete` when the
 * token limit or a content filter cut the answer. Every event carries `sequence_number` from 0.
 *
 * Tool arguments must arrive for the most recent tool call (the upstream decoders deliver them in order); arguments
 * for an earlier, finished item end the stream as failed instead of being lost.
 *
 * A failure (`fail()` or an upstream error event) sends `error` (what the SDK stream helpers reject on), then
 * `response.failed` with the output so far, the open item marked incomplete.
 */
export function createResponsesEncoder(ctx: CallerContext): StreamEncoder {
  let seq = 0;
  let started = false;
  let done = false;
  let createdAt = 0;
  let open: Open | null = null;
  let sawTool = false;
  let finish: FinishReason | null = null;
  let usage: Usage | null = null;
  const output: object[] = [];

  const emit = (type: string, fields: object): string => sse({ type, sequence_number: seq++, ...fields });

  function start(created: number): string {
    started = true;
    createdAt = created;
    const response = envelope(ctx, { createdAt, status: 'in_progress', output: [] });
    return emit('response.created', { response }) + emit('response.in_progress', { response });
  }

  function finalItem(item: Open, status: ItemStatus): object {
    switch (item.kind) {
      case 'message':
        return messageItem(item.id, status, [outputText(item.text)]);
      case 'reasoning':
        return reasoningItem(item.id, status, [reasoningText(item.text)]);
      case 'function_call':
        return functionCallItem(item.id, status, { ...item, args: finalArgs(item.args) });
    }
  }

  /** As announced by output_item.added: content parts are added by their own events. */
  function addedItem(item: Open): object {
    switch (item.kind) {
      case 'message':
        return messageItem(item.id, 'in_progress', []);
      case 'reasoning':
        return reasoningItem(item.id, 'in_progress', []);
      case 'function_call':
        return functionCallItem(item.id, 'in_progress', item);
    }
  }

  function close(status: ItemStatus): string {
    const item = open;
    if (item === null) return '';
    open = null;
    const final = finalItem(item, status);
    output.push(final);
    const at = { item_id: item.id, output_index: item.index };
    let out: string;
    switch (item.kind) {
      case 'message':
        out =
          emit('response.output_text.done', { ...at, content_index: 0, text: item.text, logprobs: [] }) +
          emit('response.content_part.done', { ...at, content_index: 0, part: outputText(item.text) });
        break;
      case 'reasoning':
        out =
          emit('response.reasoning_text.done', { ...at, content_index: 0, text: item.text }) +
          emit('response.content_part.done', { ...at, content_index: 0, part: reasoningText(item.text) });
        break;
      case 'function_call':
        out = emit('response.function_call_arguments.done', { ...at, name: item.tool.name, arguments: finalArgs(item.args) });
        break;
    }
    return out + emit('response.output_item.done', { output_index: item.index, item: final });
  }

  /** Closes the open item and adds the next one at the following output index. */
  function begin(make: (index: number) => Open): string {
    let out = close('completed');
    const next = make(output.length);
    open = next;
    out += emit('response.output_item.added', { output_index: next.index, item: addedItem(next) });
    if (next.kind !== 'function_call') {
      const part = next.kind === 'message' ? outputText('') : reasoningText('');
      out += emit('response.content_part.added', { item_id: next.id, output_index: next.index, content_index: 0, part });
    }
    return out;
  }

  function text(kind: 'message' | 'reasoning', delta: string): string {
    if (delta.length === 0) return '';
    const head = open?.kind === kind ? '' : begin((index) => ({ kind, index, id: itemId(ctx, kind, index), text: '' }));
    const item = open as Extract<Open, { text: string }>;
    item.text += delta;
    const at = { item_id: item.id, output_index: item.index, content_index: 0 };
    const event =
      kind === 'message'
        ? emit('response.output_text.delta', { ...at, delta, logprobs: [] })
        : emit('response.reasoning_text.delta', { ...at, delta });
    return head + event;
  }

  function failWith(code: string, message: string): string {
    done = true;
    const head = started ? '' : start(Math.floor(Date.now() / 1000));
    const partial = open === null ? [] : [finalItem(open, 'incomplete')];
    const response = envelope(ctx, { createdAt, status: 'failed', output: [...output, ...partial], usage, error: failedError(code, message) });
    return head + emit('error', { code, message, param: null }) + emit('response.failed', { response });
  }

  function handle(event: ChatEvent): string {
    switch (event.type) {
      case 'start':
        return '';
      case 'text':
        return text('message', event.text);
      case 'reasoning':
        return text('reasoning', event.text);
      case 'tool_call':
        sawTool = true;
        return begin((index) => ({
          kind: 'function_call',
          index,
          id: itemId(ctx, 'function_call', index),
          toolIndex: event.index,
          callId: callId(ctx, event.id, event.index),
          tool: callerToolName(ctx, event.name),
          args: '',
        }));
      case 'tool_args':
        if (event.delta.length === 0) return '';
        if (open?.kind !== 'function_call' || open.toolIndex !== event.index) {
          return failWith('protocol_error', 'Tool call arguments arrived out of order.');
        }
        open.args += event.delta;
        return emit('response.function_call_arguments.delta', { item_id: open.id, output_index: open.index, delta: event.delta });
      case 'finish':
        finish = event.reason;
        return '';
      case 'usage':
        usage = { input_tokens: event.input_tokens, output_tokens: event.output_tokens };
        return '';
      case 'error':
        return failWith(event.code, event.message);
    }
  }

  return {
    push(event) {
      if (done) return '';
      const head = started ? '' : start(event.type === 'start' ? event.created : Math.floor(Date.now() / 1000));
      return head + handle(event);
    },
    end() {
      if (done) return '';
      done = true;
      const head = started ? '' : start(Math.floor(Date.now() / 1000));
      const terminal = TERMINAL[finish ?? (sawTool ? 'tool_calls' : 'stop')];
      const out = head + close(terminal.status === 'incomplete' ? 'incomplete' : 'completed');
      const response = envelope(ctx, {
        createdAt,
        status: terminal.status,
        output,
        usage: usage ?? { input_tokens: 0, output_tokens: 0 },
        incomplete_details: terminal.incomplete_details,
      });
      return out + emit(terminal.event, { response });
    },
    fail(err) {
      if (done) return '';
      return failWith(err.code, err.message);
    },
  };
}
