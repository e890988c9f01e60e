import type { CallerContext } from '../../adapter.js';
import type { FinishReason } from '../../pivot.js';
import { STOP_REASON, type StopReason } from './maps.js';

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
 * The final stop_reason. The upstream decoders already turn `stop` into `tool_calls` after a tool call; this guards
 * the same rule here, since `end_turn` on a tool turn makes clients drop the call. A stop sequence match is not
 * reported by the pivot, so `stop_sequence` stays null and the reason is `end_turn`.
 */
export function stopReason(finish: FinishReason | null, sawTool: boolean): StopReason {
  if (sawTool && (finish === null || finish === 'stop')) return STOP_REASON.tool_calls;
  return STOP_REASON[finish ?? 'stop'];
}
