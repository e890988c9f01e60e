import type { CallerContext } from '../../adapter.js';
import type { FinishReason } from '../../pivot.js';
import { STOP_REASON, STOP_SEQUENCE, type StopReason } from './maps.js';

/** Shapes shared by the stream encoder and the aggregator. */

export interface Usage {
  input_tokens: number;
  output_tokens: number;
}

export function messageId(ctx: CallerContext): string {
  return `msg_${ctx.requestId}`;
}

/** The upstream's tool call id, or a stable one when it gave none. */
export function toolUseId(ctx: CallerContext, id: string, index: number): string {
  return id.length > 0 ? id : `toolu_${ctx.requestId}_${index}`;
}

/**
 * The final stop_reason and stop_sequence. The upstream decoders already turn `stop` into `tool_calls` after a tool
 * call; this guards the same rule here, since `end_turn` on a tool turn makes clients drop the call. A `stop` that
 * the model server says a stop string ended is `stop_sequence` with that string, but only when the string is one of
 * the request's `stop_sequences` (the server's bytes are not echoed otherwise); when the server does not say (Ollama,
 * llama.cpp, LM Studio) it is `end_turn`.
 */
export function stopOf(ctx: CallerContext, finish: FinishReason | null, stopSequence: string | undefined, sawTool: boolean): { stop_reason: StopReason; stop_sequence: string | null } {
  if (sawTool && (finish === null || finish === 'stop')) return { stop_reason: STOP_REASON.tool_calls, stop_sequence: null };
  if ((finish === null || finish === 'stop') && stopSequence !== undefined && ctx.stopSequences?.includes(stopSequence) === true) {
    return { stop_reason: STOP_SEQUENCE, stop_sequence: stopSequence };
  }
  return { stop_reason: STOP_REASON[finish ?? 'stop'], stop_sequence: null };
}
