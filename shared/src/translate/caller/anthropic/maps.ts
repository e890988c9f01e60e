import type { Shape } from '../guard.js';
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

/** Top-level request keys this caller reads (honoured, mapped or validated); any other key is reported as ignored. */
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
  'output_config',
  'output_format',
  'mcp_servers',
] as const;

/**
 * Top-level keys accepted and ignored, with the shape they must have: hints and settings of Anthropic's own service
 * (prompt caching, context editing, routing, diagnostics, betas) that change nothing a private model generates.
 */
export const ADVISORY_KEYS = {
  cache_control: 'object',
  container: 'any',
  context_management: 'object',
  compaction: 'any',
  diagnostics: 'object',
  inference_geo: 'string',
  speed: 'string',
  user_profile_id: 'string',
  workspace_id: 'string',
  betas: 'array',
} as const satisfies Record<string, Shape>;

/** Keys of a custom tool definition this caller reads. */
export const TOOL_KEYS = ['name', 'description', 'input_schema', 'type'] as const;

/**
 * Tool keys accepted and ignored: `defer_loading` (a deferred tool is an ordinary tool here: every tool is sent),
 * `strict` (schema adherence is up to the deployed model), `eager_input_streaming` (arguments always stream),
 * cache hints, examples and callers of Anthropic's tool runner.
 */
export const TOOL_ADVISORY_KEYS = {
  cache_control: 'object',
  strict: 'boolean',
  defer_loading: 'boolean',
  eager_input_streaming: 'boolean',
  input_examples: 'array',
  allowed_callers: 'array',
} as const satisfies Record<string, Shape>;

/** Assistant history blocks from Anthropic's server tools and encrypted reasoning: nothing a local model can read. */
export const DROPPED_ASSISTANT_BLOCKS = /^(redacted_thinking|server_tool_use|mcp_tool_use|mcp_tool_result|container_upload|[a-z_]+_tool_result)$/;

/** How a `tool_reference` block (a deferred tool the client loaded) reads to the model: every tool is already sent. */
export const TOOL_REFERENCE_TEXT = 'Tool available: ';
