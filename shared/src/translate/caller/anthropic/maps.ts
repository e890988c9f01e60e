import type { ChatToolChoice, FinishReason } from '../../pivot.js';

/** Pivot finish reason -> Anthropic `stop_reason`. */
export const STOP_REASON = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  content_filter: 'refusal',
} as const satisfies Record<FinishReason, string>;

/** A stop sequence of the request ended the answer (only when the model server says which one). */
export const STOP_SEQUENCE = 'stop_sequence';

export type StopReason = (typeof STOP_REASON)[FinishReason] | typeof STOP_SEQUENCE;

/** Anthropic `tool_choice.type` -> pivot tool_choice ('tool' needs a name, so it is built in request.ts). */
export const TOOL_CHOICE = {
  auto: 'auto',
  any: 'required',
  none: 'none',
} as const satisfies Record<string, ChatToolChoice>;

/** Image media types the Messages API accepts for base64 sources. */
export const IMAGE_MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const;

/** `thinking.type` values; all are advisory here (see request.ts). */
export const THINKING_TYPES = ['enabled', 'disabled', 'adaptive'] as const;

/** Accepted `service_tier` values; neither changes what the deployment does. */
export const SERVICE_TIERS = ['auto', 'standard_only'] as const;

/** How a tool_result with `is_error: true` reaches the model: the pivot's tool message has text only. */
export const TOOL_ERROR_PREFIX = 'Error: ';

/** Top-level request keys this caller understands; anything else is a 400 naming the key. */
export const REQUEST_KEYS = [
  'model',
  'messages',
  'max_tokens',
  'system',
  'stop_sequences',
  'stream',
  'temperature',
  'top_p',
  'top_k',
  'metadata',
  'tools',
  'tool_choice',
  'thinking',
  'service_tier',
  'cache_control',
] as const;

/** Keys of a custom tool definition; anything else is a 400 naming it. */
export const TOOL_KEYS = ['name', 'description', 'input_schema', 'cache_control', 'type', 'strict'] as const;
