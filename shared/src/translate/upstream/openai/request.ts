import { TokiosError } from '../../../errors/registry.js';
import type { UpstreamHttpRequest } from '../../adapter.js';
import type { ChatRequest } from '../../pivot.js';
import { OPENAI_STREAM_HEADERS } from '../headers.js';

export const OPENAI_CHAT_PATH = '/v1/chat/completions';

/**
 * ChatRequest -> body of POST /v1/chat/completions on an OpenAI-compatible server (vLLM, llama.cpp server,
 * LM Studio, SGLang). Always streamed, always with `stream_options.include_usage` so usage is counted.
 *
 * `top_k` is forwarded: all four servers accept it as an extension of the OpenAI schema. `max_tokens` (not
 * `max_completion_tokens`) is used because it is the name every one of them reads. The caller's
 * `stream_options` is not forwarded (the upstream always gets include_usage; the caller encoder decides what
 * the caller sees).
 */
export function buildOpenAIRequest(req: ChatRequest, options: { model: string }): UpstreamHttpRequest {
  const body: Record<string, unknown> = {
    model: options.model,
    messages: req.messages,
    stream: true,
    stream_options: { include_usage: true },
  };
  if (req.temperature !== undefined) body['temperature'] = req.temperature;
  if (req.top_p !== undefined) body['top_p'] = req.top_p;
  if (req.top_k !== undefined) body['top_k'] = req.top_k;
  if (req.max_tokens !== undefined) body['max_tokens'] = req.max_tokens;
  if (req.stop !== undefined && req.stop.length > 0) body['stop'] = req.stop;
  if (req.seed !== undefined) body['seed'] = req.seed;
  // vLLM, llama.cpp, LM Studio and SGLang all take OpenAI's response_format (guided decoding / grammars).
  if (req.response_format !== undefined) body['response_format'] = req.response_format;
  if (req.tools !== undefined && req.tools.length > 0) {
    body['tools'] = req.tools;
    if (req.tool_choice !== undefined) body['tool_choice'] = req.tool_choice;
    if (req.parallel_tool_calls !== undefined) body['parallel_tool_calls'] = req.parallel_tool_calls;
  } else if (req.tool_choice !== undefined && req.tool_choice !== 'none' && req.tool_choice !== 'auto') {
    throw new TokiosError('invalid_request', 'tool_choice requires tools.', { param: 'tool_choice' });
  }
  // Without tools, `auto` / `none` need no field (some servers reject tool_choice without tools).
  if (req.user !== undefined) body['user'] = req.user;
  return {
    path: OPENAI_CHAT_PATH,
    body: JSON.stringify(body),
    headers: OPENAI_STREAM_HEADERS,
  };
}
