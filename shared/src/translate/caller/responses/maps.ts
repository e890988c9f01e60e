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

/** `include` values we can satisfy: reasoning is always returned as plain text, so nothing needs encrypting. */
export const INCLUDES = ['reasoning.encrypted_content'] as const;

/** `reasoning` is advisory (see request.ts); its fields are validated against these. */
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'] as const;
export const REASONING_SUMMARIES = ['auto', 'concise', 'detailed'] as const;

export const SERVICE_TIERS = ['auto', 'default'] as const;

/** `text.format.type` values; the JSON ones are structured output (the pivot's response_format). */
export const FORMAT_TYPES = ['text', 'json_object', 'json_schema'] as const;

/** Top-level request keys this caller understands; anything else is a 400 naming the key. */
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
  'metadata',
  'prompt_cache_key',
  'store',
  'background',
  'previous_response_id',
  'conversation',
  'prompt',
  'include',
  'reasoning',
  'text',
  'truncation',
  'service_tier',
  'top_logprobs',
  'max_tool_calls',
] as const;

/** Keys of a function tool definition. `strict` is accepted but not enforced (see request.ts). */
export const TOOL_KEYS = ['type', 'name', 'description', 'parameters', 'strict'] as const;
