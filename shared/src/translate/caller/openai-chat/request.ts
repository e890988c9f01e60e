import { TokiosError } from '../../../errors/registry.js';
import type { ChatMessage, ChatRequest, ChatTool, ChatToolChoice, ContentPart, ResponseFormat } from '../../pivot.js';
import { isRecord } from '../../util.js';
import { zodToError } from '../../zod-error.js';
import { Ignored } from '../ignored.js';
import { chatBodySchema, type ChatBody, type ParsedMessage } from './schema.js';

type Neutral = (value: unknown) => boolean;
const isNull: Neutral = (v) => v === null;
const isEmptyRecord = (v: unknown): boolean => isRecord(v) && Object.keys(v).length === 0;

/**
 * Top-level fields Tokios cannot honour. Each is accepted only at its neutral value (what the client SDKs send
 * by default); any other value is a 400 unsupported_parameter naming the field.
 */
const UNSUPPORTED = {
  n: (v) => v === null || v === 1,
  logprobs: (v) => v === null || v === false,
  top_logprobs: (v) => v === null || v === 0,
  frequency_penalty: (v) => v === null || v === 0,
  presence_penalty: (v) => v === null || v === 0,
  logit_bias: (v) => v === null || isEmptyRecord(v),
  modalities: (v) => v === null || (Array.isArray(v) && v.length === 1 && v[0] === 'text'),
  audio: isNull,
  functions: isNull,
  function_call: isNull,
} as const satisfies Record<string, Neutral>;

/**
 * Top-level fields accepted and ignored on purpose (reported in `ignored`): `metadata` / `store` (OpenAI-side
 * storage, Tokios stores nothing), `service_tier` (OpenAI billing tier), `prompt_cache_*` / `safety_identifier` /
 * `moderation` (OpenAI-side caching, abuse and moderation settings), `reasoning_effort` / `verbosity` (hints: how a
 * private model reasons and how long it writes is part of the deployed model), `prediction` (a latency
 * optimisation: the answer is the same without it), `web_search_options` (OpenAI's hosted search, dropped).
 */
export const IGNORED_FIELDS = [
  'metadata',
  'store',
  'service_tier',
  'prompt_cache_key',
  'prompt_cache_options',
  'prompt_cache_retention',
  'safety_identifier',
  'moderation',
  'reasoning_effort',
  'verbosity',
  'prediction',
  'web_search_options',
] as const;

const KNOWN = new Set<string>(Object.keys(chatBodySchema.shape));

/**
 * Validates an OpenAI Chat Completions body and converts it to the pivot.
 *
 * Policy (docs/protocols.md): known fields are validated by zod (size limits included); fields in UNSUPPORTED are
 * rejected unless neutral; IGNORED_FIELDS and fields this parser does not know are accepted and reported in
 * `ignored` (clients add fields faster than a gateway learns them). Inside messages, `name` is ignored (local chat
 * templates have no participant names); audio/file parts, `function` messages, assistant `audio` / `function_call`
 * and tools other than functions are rejected; `strict` on a function is accepted and not enforced.
 * Several text parts are joined with "\n" where the pivot needs a string (system, assistant, tool).
 */
export function parseOpenAIChatRequest(body: unknown, ignored: Ignored = new Ignored()): ChatRequest {
  if (!isRecord(body)) throw new TokiosError('invalid_request', 'The request body must be a JSON object.');
  for (const key of Object.keys(body)) {
    if (KNOWN.has(key)) continue;
    const neutral = (UNSUPPORTED as Record<string, Neutral>)[key];
    if (neutral === undefined) {
      if (body[key] !== null && body[key] !== undefined) ignored.field(key);
      continue;
    }
    if (!neutral(body[key])) throw new TokiosError('unsupported_parameter', `'${key}' is not supported by this deployment.`, { param: key });
  }
  const parsed = chatBodySchema.safeParse(body);
  if (!parsed.success) throw zodToError(parsed.error);
  return toPivot(parsed.data, ignored);
}

function joinText(content: string | Array<{ text: string }>): string {
  if (typeof content === 'string') return content;
  let out = '';
  for (let i = 0; i < content.length; i++) out += (i === 0 ? '' : '\n') + content[i]!.text;
  return out;
}

function toPivot(b: ChatBody, ignored: Ignored): ChatRequest {
  const stream = b.stream === true;
  const req: ChatRequest = { model: b.model, messages: b.messages.map(toMessage), stream };
  if (b.stream_options != null) {
    if (!stream) throw new TokiosError('invalid_request', "'stream_options' is only allowed when 'stream' is true.", { param: 'stream_options' });
    if (b.stream_options.include_usage != null) req.stream_options = { include_usage: b.stream_options.include_usage };
  }
  if (b.temperature != null) req.temperature = b.temperature;
  if (b.top_p != null) req.top_p = b.top_p;
  if (b.top_k != null) req.top_k = b.top_k;
  if (b.max_tokens != null && b.max_completion_tokens != null && b.max_tokens !== b.max_completion_tokens) {
    throw new TokiosError('invalid_request', "Send either 'max_tokens' or 'max_completion_tokens', not two different values.", { param: 'max_tokens' });
  }
  const max = b.max_completion_tokens ?? b.max_tokens;
  if (max != null) req.max_tokens = max;
  if (b.stop != null) {
    const stop = typeof b.stop === 'string' ? [b.stop] : b.stop;
    if (stop.length > 0) req.stop = stop;
  }
  if (b.seed != null) req.seed = b.seed;
  if (b.response_format != null) {
    const format = toResponseFormat(b.response_format);
    if (format !== undefined) req.response_format = format;
  }
  if (b.user != null) req.user = b.user;
  const tools = b.tools == null ? [] : b.tools.map((t, i) => toTool(t, i, ignored));
  if (tools.length > 0) req.tools = tools;
  if (b.tool_choice != null) req.tool_choice = toToolChoice(b.tool_choice, tools);
  if (b.parallel_tool_calls != null) req.parallel_tool_calls = b.parallel_tool_calls;
  return req;
}

function toMessage(m: ParsedMessage, i: number): ChatMessage {
  switch (m.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: joinText(m.content) };
    case 'user': {
      if (typeof m.content === 'string') return { role: 'user', content: m.content };
      const parts: ContentPart[] = [];
      for (let j = 0; j < m.content.length; j++) {
        const p = m.content[j]!;
        if (p.type === 'text') parts.push({ type: 'text', text: p.text });
        else if (p.type === 'image_url') {
          const image: ContentPart = { type: 'image_url', image_url: { url: p.image_url.url } };
          if (p.image_url.detail != null) image.image_url.detail = p.image_url.detail;
          parts.push(image);
        } else {
          throw new TokiosError('unsupported_parameter', `Content parts of type '${p.type}' are not supported by this deployment.`, {
            param: `messages[${i}].content[${j}].type`,
          });
        }
      }
      return { role: 'user', content: parts };
    }
    case 'assistant': {
      if (m.audio != null) throw new TokiosError('unsupported_parameter', 'Assistant audio is not supported.', { param: `messages[${i}].audio` });
      if (m.function_call != null) {
        throw new TokiosError('unsupported_parameter', "'function_call' is deprecated and not supported; use 'tool_calls'.", { param: `messages[${i}].function_call` });
      }
      let content: string | null = null;
      if (typeof m.content === 'string') content = m.content;
      else if (m.content != null) content = m.content.map((p) => (p.type === 'text' ? p.text : p.refusal)).join('\n');
      if ((content === null || content.length === 0) && m.refusal != null && m.refusal.length > 0) content = m.refusal;
      const out: Extract<ChatMessage, { role: 'assistant' }> = { role: 'assistant', content };
      if (m.tool_calls != null && m.tool_calls.length > 0) out.tool_calls = m.tool_calls;
      else if (content === null) {
        throw new TokiosError('invalid_request', "An assistant message needs 'content' or 'tool_calls'.", { param: `messages[${i}].content` });
      }
      if (m.reasoning_content != null && m.reasoning_content.length > 0) out.reasoning_content = m.reasoning_content;
      return out;
    }
    case 'tool':
      return { role: 'tool', tool_call_id: m.tool_call_id, content: joinText(m.content) };
    case 'function':
      throw new TokiosError('unsupported_parameter', "Messages with role 'function' are deprecated and not supported; use role 'tool'.", {
        param: `messages[${i}].role`,
      });
  }
}

function toTool(t: NonNullable<ChatBody['tools']>[number], i: number, ignored: Ignored): ChatTool {
  if (t.type !== 'function') {
    throw new TokiosError('unsupported_parameter', `Tools of type '${t.type}' are not supported; only 'function'.`, { param: `tools[${i}].type` });
  }
  const fn = t.function;
  if (fn === undefined) throw new TokiosError('invalid_request', "A function tool needs 'function'.", { param: `tools[${i}].function` });
  // Schema adherence is up to the deployed model: `strict` is a request it cannot be held to.
  if (fn.strict != null) ignored.field('tools.function.strict');
  const out: ChatTool = { type: 'function', function: { name: fn.name } };
  if (fn.description != null) out.function.description = fn.description;
  if (fn.parameters != null) out.function.parameters = fn.parameters;
  return out;
}

function toToolChoice(choice: NonNullable<ChatBody['tool_choice']>, tools: ChatTool[]): ChatToolChoice {
  if (typeof choice === 'string') {
    if (choice === 'required' && tools.length === 0) throw new TokiosError('invalid_request', "tool_choice 'required' needs 'tools'.", { param: 'tool_choice' });
    return choice;
  }
  if (choice.type !== 'function' || !('function' in choice)) {
    throw new TokiosError('unsupported_parameter', `tool_choice of type '${choice.type}' is not supported.`, { param: 'tool_choice' });
  }
  const name = (choice.function as { name: string }).name;
  if (!tools.some((t) => t.function.name === name)) {
    throw new TokiosError('invalid_request', `tool_choice names '${name}', which is not in 'tools'.`, { param: 'tool_choice' });
  }
  return { type: 'function', function: { name } };
}

/** `text` is the default and needs no field; JSON formats go to the pivot without their null members. */
function toResponseFormat(format: NonNullable<ChatBody['response_format']>): ResponseFormat | undefined {
  switch (format.type) {
    case 'text':
      return undefined;
    case 'json_object':
      return { type: 'json_object' };
    case 'json_schema': {
      const { name, description, schema, strict } = format.json_schema;
      const out: Extract<ResponseFormat, { type: 'json_schema' }> = { type: 'json_schema', json_schema: { name } };
      if (description != null) out.json_schema.description = description;
      if (schema != null) out.json_schema.schema = schema;
      if (strict != null) out.json_schema.strict = strict;
      return out;
    }
  }
}
