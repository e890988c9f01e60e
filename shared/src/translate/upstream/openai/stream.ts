import { SseDecoder, type SseEvent } from '../../../codec/index.js';
import type { DecoderOptions } from '../../adapter.js';
import type { ChatEvent, FinishReason } from '../../pivot.js';
import { count, isRecord, parseJson, str, type JsonRecord } from '../../util.js';
import { MSG_CUT, MSG_EMPTY, StreamDecoderBase } from '../decoder-base.js';
import { inStreamError } from './error.js';
import { openaiUsage } from './usage.js';

/** OpenAI-compatible finish_reason -> pivot. Anything else (e.g. llama.cpp / vLLM `abort`, `eos`) is `stop`. */
const FINISH_REASONS = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
  content_filter: 'content_filter',
} as const satisfies Record<string, FinishReason>;

function finishOf(value: string): FinishReason {
  return Object.hasOwn(FINISH_REASONS, value) ? FINISH_REASONS[value as keyof typeof FINISH_REASONS] : 'stop';
}

interface ToolState {
  /** Pivot index, or -1 until the name is known and tool_call was emitted. */
  index: number;
  id: string | undefined;
  name: string | undefined;
  /** Arguments received before the name (only when a server sends them first). */
  pending: string;
  /** Arguments were seen (sent, or held until this call's turn). */
  sentArgs: boolean;
  /** Events of this call waiting for an earlier call to get its arguments. */
  held: ChatEvent[];
}

const MSG_MALFORMED = 'The model server sent a malformed stream chunk.';
const MSG_TOO_LARGE = 'The model server sent an oversized stream event.';
const MSG_NAMELESS = 'The model server sent a tool call without a name.';
const MSG_ORDER = 'The model server sent tool call arguments out of order.';

/**
 * SSE chat.completion.chunk stream -> ChatEvent. Resolves the quirks of vLLM, llama.cpp, LM Studio and SGLang:
 *  - `tool_calls: []` is treated as absent; tool calls are keyed on `index` (on `id`, then "the last one", only
 *    when a server omits `index`); the name may come once or repeated; arguments may stream or come whole, also
 *    only at the end; a tool call that never got arguments gets `{}` at the end.
 *  - usage may ride on every chunk: the last one wins, never summed.
 *  - a chunk with content and finish_reason: content first. `finish` and `usage` are held until `[DONE]` (or
 *    the end of the body), then emitted in that order, so the usage chunk that follows the finish chunk counts.
 *  - finish `stop` after tool calls becomes `tool_calls` (`length` stays: the call may be truncated); a `stop`
 *    finish carries the stop string vLLM (`stop_reason`) or SGLang (`matched_stop`) names.
 *  - usage on the first chunk gives the start event the prompt's token count.
 *  - `reasoning_content` / `reasoning` deltas -> reasoning events.
 *  - `{"error":…}` or vLLM `{"object":"error",…}` in the stream, malformed JSON, oversized events and a body
 *    that ends before finishing -> one error event, after which the decoder emits nothing.
 */
export class OpenAIStreamDecoder extends StreamDecoderBase {
  private readonly sse = new SseDecoder();
  private finish: FinishReason | undefined;
  private stopSequence: string | undefined;
  private usage: { input_tokens: number; output_tokens: number } | undefined;
  /** Keyed by upstream index (or a synthetic key when the server omits it). */
  private readonly tools = new Map<number, ToolState>();
  private readonly emitted: ToolState[] = [];
  /** Pivot index of the tool call whose events go out now; later calls wait (see emitTool). */
  private cursor = 0;
  private lastTool: ToolState | undefined;
  private readonly onEvent = (event: SseEvent): void => this.event(event);

  constructor(options: DecoderOptions = {}) {
    super(options, { tooLarge: MSG_TOO_LARGE, malformed: MSG_MALFORMED });
  }

  protected feed(chunk: Uint8Array | string): void {
    this.sse.push(chunk, this.onEvent);
  }

  protected flush(): void {
    this.sse.end(this.onEvent);
  }

  protected ended(): void {
    if (this.finish !== undefined) this.complete();
    else this.fail(this.started ? MSG_CUT : MSG_EMPTY);
  }

  private event(event: SseEvent): void {
    if (this.state !== 'open') return;
    const data = event.data;
    if (data === '[DONE]') {
      this.complete();
      return;
    }
    const parsed = parseJson(data);
    if (!parsed.ok || !isRecord(parsed.value)) {
      this.fail(MSG_MALFORMED);
      return;
    }
    const chunk = parsed.value;
    const error = inStreamError(chunk);
    if (error !== undefined) {
      this.fail(error);
      return;
    }
    this.chunk(chunk);
  }

  private chunk(chunk: JsonRecord): void {
    if (!this.started) {
      this.started = true;
      const created = count(chunk['created']);
      const start: Extract<ChatEvent, { type: 'start' }> = {
        type: 'start',
        id: str(chunk['id']) ?? this.newId('chatcmpl'),
        model: str(chunk['model']) ?? '',
        created: created ?? Math.floor(this.now() / 1000),
      };
      // Usage on the first chunk (vLLM / SGLang `continuous_usage_stats`): the prompt's count is known from the start.
      const usage = chunk['usage'];
      const input = isRecord(usage) ? count(usage['prompt_tokens']) : undefined;
      if (input !== undefined) start.input_tokens = input;
      this.out.push(start);
    }
    const choices = chunk['choices'];
    if (Array.isArray(choices)) {
      for (const choice of choices) {
        // Tokios never asks for n > 1: only choice 0 counts.
        if (isRecord(choice) && (choice['index'] === undefined || choice['index'] === 0)) {
          this.choice(choice);
          break;
        }
      }
    }
    const usage = openaiUsage(chunk['usage']);
    if (usage !== undefined) this.usage = usage;
  }

  private choice(choice: JsonRecord): void {
    const delta = choice['delta'];
    if (isRecord(delta)) {
      const reasoning = str(delta['reasoning_content']) ?? str(delta['reasoning']);
      if (reasoning !== undefined) this.out.push({ type: 'reasoning', text: reasoning });
      const text = str(delta['content']);
      if (text !== undefined) this.out.push({ type: 'text', text });
      const calls = delta['tool_calls'];
      if (Array.isArray(calls)) {
        for (let i = 0; i < calls.length; i++) {
          const call: unknown = calls[i];
          if (isRecord(call)) this.toolCall(call);
          if (this.state !== 'open') return;
        }
      }
    }
    const reason = str(choice['finish_reason']);
    if (reason !== undefined && this.finish === undefined) {
      this.finish = finishOf(reason);
      // Which stop string ended the answer: vLLM `stop_reason`, SGLang `matched_stop` (a number there is a token id).
      this.stopSequence = str(choice['stop_reason']) ?? str(choice['matched_stop']);
    }
  }

  private toolCall(call: JsonRecord): void {
    const fn = isRecord(call['function']) ? call['function'] : undefined;
    const id = str(call['id']);
    const name = fn === undefined ? undefined : str(fn['name']);
    const rawArgs = fn === undefined ? undefined : fn['arguments'];
    // Some servers send arguments as an object instead of JSON text.
    const args = typeof rawArgs === 'string' ? rawArgs : isRecord(rawArgs) ? JSON.stringify(rawArgs) : '';

    let state: ToolState | undefined;
    const key = typeof call['index'] === 'number' ? call['index'] : undefined;
    if (key !== undefined) {
      state = this.tools.get(key);
    } else if (id !== undefined) {
      for (const s of this.tools.values()) if (s.id === id) state = s;
    } else {
      state = this.lastTool;
    }
    if (state === undefined) {
      state = { index: -1, id, name, pending: '', sentArgs: false, held: [] };
      this.tools.set(key ?? -1 - this.tools.size, state);
    }
    this.lastTool = state;

    if (state.index === -1) {
      state.id ??= id;
      state.name ??= name;
      state.pending += args;
      if (state.name === undefined) return;
      state.index = this.emitted.length;
      this.emitted.push(state);
      state.id ??= this.newId('call');
      this.emitTool(state, { type: 'tool_call', index: state.index, id: state.id, name: state.name });
      if (state.pending.length > 0) {
        const pending = state.pending;
        state.pending = '';
        this.emitTool(state, { type: 'tool_args', index: state.index, delta: pending });
      }
      return;
    }
    if (args.length > 0) this.emitTool(state, { type: 'tool_args', index: state.index, delta: args });
  }

  /**
   * Keeps tool calls strictly sequential in the pivot (caller encoders close one block before the next): events
   * of a later call wait until the upstream moves on to that call's arguments (or the stream ends). Servers that
   * announce every call first and send the arguments afterwards (LM Studio) are thereby put in order.
   */
  private emitTool(state: ToolState, ev: ChatEvent): void {
    if (ev.type === 'tool_args') state.sentArgs = true;
    if (state.index < this.cursor) {
      this.fail(MSG_ORDER);
      return;
    }
    if (state.index === this.cursor) {
      this.out.push(ev);
      return;
    }
    state.held.push(ev);
    if (ev.type === 'tool_args') this.advanceTo(state.index);
  }

  /** Closes the calls before `target` (a call that got no arguments gets `{}`) and releases what waited. */
  private advanceTo(target: number): void {
    while (this.cursor < target) {
      const open = this.emitted[this.cursor];
      if (open === undefined) return;
      if (!open.sentArgs) {
        this.out.push({ type: 'tool_args', index: open.index, delta: '{}' });
        open.sentArgs = true;
      }
      this.cursor++;
      const next = this.emitted[this.cursor];
      if (next !== undefined) for (const ev of next.held.splice(0)) this.out.push(ev);
    }
  }

  /** `[DONE]`, or the body ended after a finish_reason. */
  private complete(): void {
    for (const s of this.tools.values()) {
      if (s.index === -1) {
        this.fail(MSG_NAMELESS);
        return;
      }
    }
    this.advanceTo(this.emitted.length);
    if (!this.started) {
      this.fail(MSG_EMPTY);
      return;
    }
    let reason = this.finish ?? 'stop';
    if (reason === 'stop' && this.emitted.length > 0) reason = 'tool_calls';
    this.out.push(reason === 'stop' && this.stopSequence !== undefined ? { type: 'finish', reason, stop_sequence: this.stopSequence } : { type: 'finish', reason });
    if (this.usage !== undefined) this.out.push({ type: 'usage', ...this.usage });
    this.state = 'done';
  }
}
