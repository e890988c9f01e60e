/**
 * Request field names the translators report as the parameter at fault. A log line may name these; anything else
 * in a parameter path (an unknown key the caller made up, a tool name) is the caller's own string and is masked.
 */
const KNOWN_FIELDS = new Set([
  'model', 'messages', 'input', 'instructions', 'system', 'content', 'role', 'name', 'type', 'text', 'id', 'tools', 'tool_choice',
  'function', 'arguments', 'parameters', 'tool_calls', 'tool_call_id', 'tool_use_id', 'audio', 'function_call', 'max_tokens',
  'max_completion_tokens', 'max_output_tokens', 'parallel_tool_calls', 'stream', 'stream_options', 'strict', 'temperature', 'top_p',
  'top_k', 'stop', 'stop_sequences', 'n', 'seed', 'response_format', 'json_schema', 'schema', 'format', 'logprobs', 'top_logprobs',
  'frequency_penalty', 'presence_penalty', 'logit_bias', 'user', 'metadata', 'previous_response_id', 'store', 'include', 'background',
  'truncation', 'service_tier', 'prediction', 'modalities', 'reasoning', 'reasoning_effort', 'thinking', 'image_url', 'url', 'detail',
  'source', 'media_type', 'data', 'file', 'input_audio', 'cache_control', 'citations', 'is_error', 'output', 'call_id', 'summary',
]);

/**
 * A parameter path as a log line may carry it: field names the protocols define and array indices kept, every other
 * segment replaced by `*` (`messages[0].content[1].type` stays; `mark_123` becomes `*`). Error messages to the
 * caller may echo what it sent; log lines never do.
 */
export function loggableParam(param: string | null | undefined): string | undefined {
  if (param == null || param === '') return undefined;
  return param
    .slice(0, 256)
    .split(/([.[\]]+)/)
    .map((seg, i) => (i % 2 === 1 || seg === '' || /^\d+$/.test(seg) || KNOWN_FIELDS.has(seg) ? seg : '*'))
    .join('');
}
