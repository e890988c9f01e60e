import type { Shape } from '../guard.js';
import type { ChatToolChoice, FinishReason } from '../../pivot.js';

/** How a finish reason ends the response: terminal event, response status, and the item status of the last item. */
export const TERMINAL = {
  stop: { event: 'response.completed', status: 'completed', incomplete_details: null },
  tool_calls: { event: 'response.completed', status: 'completed', incomplete_details: null },
  length: { event: 'response.incomplete', status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } },
  content_filter: { event: 'response.incomplete', status: 'incomplete', incomplete_details: { reason: 'content_filter' } },
} as const satisfies Record<FinishReason, { event: string; status: string; incomplete_details: { reason: string } | null }>;

/** Registry code -> `response.error.code` of a failed response (the API's enum); anything else is a server_error. */
export const FAILED_CODE = {
  rate_limited: 'rate_limit_exceeded',
} as const satisfies Partial<Record<string, string>>;

export const TOOL_CHOICES = ['auto', 'none', 'required'] as const satisfies readonly ChatToolChoice[];

export const ROLES = ['user', 'assistant', 'system', 'developer'] as const;

export const IMAGE_DETAILS = ['auto', 'low', 'high'] as const;

/** `text.format.type` values; the JSON ones are structured output (the pivot's response_format). */
export const FORMAT_TYPES = ['text', 'json_object', 'json_schema'] as const;

/** Top-level request keys this caller reads (honoured, mapped, validated or refused); others are reported as ignored. */
export const REQUEST_KEYS = [
  'model',
  'input',
  'instructions',
  'tools',
  'tool_choice',
  'max_output_tokens',
  'temperature',
  'top_p',
  'parallel_tool_calls',
  'stream',
  'stream_options',
  'user',
  'safety_identifier',
  'store',
  'background',
  'previous_response_id',
  'conversation',
  'prompt',
  'include',
  'reasoning',
  'text',
  'truncation',
  'top_logprobs',
] as const;

/**
 * Top-level keys accepted and ignored, with the shape they must have: OpenAI-side storage, caching, routing,
 * moderation and client bookkeeping (Codex's `client_metadata`), none of which changes what a private model writes.
 * `max_tool_calls` limits calls to hosted tools, which are dropped here, so it holds trivially.
 */
export const ADVISORY_KEYS = {
  metadata: 'object',
  client_metadata: 'object',
  prompt_cache_key: 'string',
  prompt_cache_retention: 'string',
  prompt_cache_options: 'object',
  service_tier: 'string',
  context_management: 'any',
  moderation: 'any',
  max_tool_calls: 'number',
} as const satisfies Record<string, Shape>;

/** Keys of a function tool this caller reads. */
export const TOOL_KEYS = ['type', 'name', 'description', 'parameters'] as const;

/**
 * Function tool keys accepted and ignored: `strict` (the API treats a missing one as true, so clients send it by
 * habit; schema adherence is up to the deployed model), `defer_loading` (every tool is sent, so a deferred tool is an
 * ordinary one), and tool-runner settings.
 */
export const TOOL_ADVISORY_KEYS = {
  strict: 'boolean',
  defer_loading: 'boolean',
  allowed_callers: 'array',
  output_schema: 'object',
} as const satisfies Record<string, Shape>;

/** Keys of a `namespace` tool: its functions are flattened (see tools.ts). */
export const NAMESPACE_KEYS = ['type', 'name', 'description', 'tools'] as const;

/** How a namespace function is named to the model: `<namespace>__<name>` (mapped back on the way out). */
export const NAMESPACE_SEPARATOR = '__';

/** Tool types that need a runner of their own (free-form input): refused, since the answer could not carry the call. */
export const REFUSED_TOOL_TYPES = ['custom'] as const;

/**
 * History items of hosted tools (and server-side compaction): their calls ran on OpenAI's side, a local model has no
 * such tool, so they are dropped and reported.
 */
export const DROPPED_INPUT_ITEMS =
  /^(web_search_call|file_search_call|computer_call|computer_call_output|code_interpreter_call|image_generation_call|local_shell_call|local_shell_call_output|shell_call|shell_call_output|apply_patch_call|apply_patch_call_output|tool_search_call|tool_search_output|mcp_call|mcp_list_tools|mcp_approval_request|mcp_approval_response|compaction)$/;
