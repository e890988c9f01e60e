import type { CallerContext, StreamEncoder } from '../../adapter.js';
import type { ChatEvent, FinishReason } from '../../pivot.js';
import { ERRORS, isErrorCode } from '../../../errors/registry.js';
import { messageId, stopOf, toolUseId, type Usage } from './shape.js';
import { typedSse as sse } from '../typed-sse.js';

type OpenBlock = { kind: 'text' } | { kind: 'thinking' } | { kind: 'tool'; toolIndex: number };

/**
 * Pivot events -> Messages API SSE.
 *
 * `message_start` exactly once (at the first event), then `ping`; content blocks strictly sequential with increasing
 * `index`, each started and stopped before the next (reasoning in its own `thinking` block, a tool call in its own
 * `tool_use` block starting with `input: {}`); at the end the open block is stopped, then `message_delta` carries the
 * stop reason (and stop sequence) and the final cumulative usage, then `message_stop`. `message_start` carries the
 * input token count when the model server reported it with its first chunk; otherwise 0 (the count comes at the end).
 *
 * Tool arguments must arrive for the most recent tool call (the upstream decoders deliver them in order). Arguments for
 * an earlier call cannot be placed in a stopped block, so they end the stream with an error instead of being lost.
 */
export function createAnthropicEncoder(ctx: CallerContext): StreamEncoder {
  let started = false;
  let done = false;
  let open: OpenBlock | null = null;
  let index = -1;
  let sawTool = false;
  let finish: FinishReason | null = null;
  let stopSequence: string | undefined;
  let usage: Usage = { input_tokens: 0, output_tokens: 0 };
  /**
   * `content_block_delta` events are most of a stream, one per upstream chunk: they are written from this prefix
   * (set when a block starts) and the JSON string of the piece, byte for byte what
   * sse({ type: 'content_block_delta', index, delta: { type, [field]: piece } }) gives, without building and
   * serialising two objects per chunk (JSON text has no raw line break, so it is always one `data:` line).
   */
  let deltaHead = '';

  /** `inputTokens`: the prompt's count when the model server reported it with its first chunk (else 0 until the end). */
  function start(inputTokens = 0): string {
    started = true;
    const message = {
      id: messageId(ctx),
      type: 'message',
      role: 'assistant',
      model: ctx.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: inputTokens, output_tokens: 0 },
    };
    return sse({ type: 'message_start', message }) + sse({ type: 'ping' });
  }

  function close(): string {
    if (open === null) return '';
    open = null;
    return sse({ type: 'content_block_stop', index });
  }

  function begin(block: OpenBlock, contentBlock: object): string {
    const out = close();
    open = block;
    index += 1;
    deltaHead = `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"`;
    return out + sse({ type: 'content_block_start', index, content_block: contentBlock });
  }

  /** A content_block_delta of the open block: `{"type":"<type>","<field>":"<piece>"}` as its delta. */
  function delta(type: 'text_delta' | 'thinking_delta' | 'input_json_delta', field: 'text' | 'thinking' | 'partial_json', piece: string): string {
    return `${deltaHead}${type}","${field}":${JSON.stringify(piece)}}}\n\n`;
  }

  function error(code: string, message: string): string {
    done = true;
    const type = isErrorCode(code) ? ERRORS[code].anthropic : ERRORS.upstream_error.anthropic;
    return sse({ type: 'error', error: { type, message } });
  }

  function handle(event: ChatEvent): string {
    switch (event.type) {
      case 'start':
        if (event.input_tokens !== undefined) usage = { input_tokens: event.input_tokens, output_tokens: 0 };
        return '';
      case 'text': {
        if (event.text.length === 0) return '';
        const head = open?.kind === 'text' ? '' : begin({ kind: 'text' }, { type: 'text', text: '' });
        return head + delta('text_delta', 'text', event.text);
      }
      case 'reasoning': {
        if (event.text.length === 0) return '';
        const head = open?.kind === 'thinking' ? '' : begin({ kind: 'thinking' }, { type: 'thinking', thinking: '', signature: '' });
        return head + delta('thinking_delta', 'thinking', event.text);
      }
      case 'tool_call':
        sawTool = true;
        return begin(
          { kind: 'tool', toolIndex: event.index },
          { type: 'tool_use', id: toolUseId(ctx, event.id, event.index), name: event.name, input: {} },
        );
      case 'tool_args':
        if (event.delta.length === 0) return '';
        if (open?.kind !== 'tool' || open.toolIndex !== event.index) {
          return error('protocol_error', 'Tool call arguments arrived out of order.');
        }
        return delta('input_json_delta', 'partial_json', event.delta);
      case 'finish':
        finish = event.reason;
        stopSequence = event.stop_sequence;
        return '';
      case 'usage':
        usage = { input_tokens: event.input_tokens, output_tokens: event.output_tokens };
        return '';
      case 'error':
        return error(event.code, event.message);
    }
  }

  return {
    push(event) {
      if (done) return '';
      const head = started ? '' : start(event.type === 'start' ? event.input_tokens : undefined);
      return head + handle(event);
    },
    end() {
      if (done) return '';
      done = true;
      const head = started ? '' : start();
      return (
        head +
        close() +
        sse({ type: 'message_delta', delta: stopOf(ctx, finish, stopSequence, sawTool), usage }) +
        sse({ type: 'message_stop' })
      );
    },
    fail(err) {
      if (done) return '';
      return error(err.code, err.message);
    },
  };
}
