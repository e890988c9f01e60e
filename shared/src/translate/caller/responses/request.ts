import type { ChatMessage, ChatRequest, ResponseFormat } from '../../pivot.js';
import { SCHEMA_NAME } from '../openai-chat/schema.js';
import { ADVISORY_KEYS, FORMAT_TYPES, REQUEST_KEYS } from './maps.js';
import { convertInput } from './input.js';
import { convertToolChoice, convertTools } from './tools.js';
import { Ignored } from '../ignored.js';
import {
  acceptAdvisory,
  acceptKeys,
  invalid,
  isObject,
  oneOf,
  optBoolean,
  optInt,
  optNumber,
  requireArray,
  requireObject,
  requireString,
  unsupported,
  type Obj,
} from '../guard.js';

/**
 * OpenAI Responses request -> pivot ChatRequest (the policy, field by field: docs/protocols.md).
 *
 * Tokios is stateless: anything that needs stored responses, conversations, prompts or background runs is a 400
 * naming the parameter. `text.format` (json_object, json_schema) is structured output. Read fields are validated
 * strictly; nothing is clamped. Advisory fields (ADVISORY_KEYS, `store: false`, `include`, `reasoning`,
 * `truncation`, `text.verbosity`) are shape-checked and ignored, keys this parser does not know are ignored too, and
 * hosted tools are dropped; all of them are reported in `ignored`.
 */
export function parseResponsesRequest(body: unknown, ignored: Ignored = new Ignored()): ChatRequest {
  if (!isObject(body)) invalid('body', 'must be a JSON object');
  acceptKeys(body, [...REQUEST_KEYS, ...Object.keys(ADVISORY_KEYS)], '', ignored);
  acceptAdvisory(body, ADVISORY_KEYS, '', ignored);
  rejectStateful(body, ignored);

  const model = requireString(body.model, 'model');
  if (model.length === 0) invalid('model', 'must not be empty');
  if (body.input === undefined || body.input === null) invalid('input', 'is required');

  const tools = body.tools !== undefined && body.tools !== null ? convertTools(body.tools, ignored) : undefined;
  const messages: ChatMessage[] = [];
  if (body.instructions !== undefined && body.instructions !== null) {
    const instructions = requireString(body.instructions, 'instructions');
    if (instructions.length > 0) messages.push({ role: 'system', content: instructions });
  }
  messages.push(...convertInput(body.input, ignored));
  if (messages.length === 0) invalid('input', 'must not be empty');

  const req: ChatRequest = { model, messages, stream: optBoolean(body.stream, 'stream') ?? false };
  const maxTokens = optInt(body.max_output_tokens, 'max_output_tokens', 1);
  if (maxTokens !== undefined) req.max_tokens = maxTokens;
  const temperature = optNumber(body.temperature, 'temperature', 0, 2);
  if (temperature !== undefined) req.temperature = temperature;
  const topP = optNumber(body.top_p, 'top_p', 0, 1);
  if (topP !== undefined) req.top_p = topP;
  if (tools !== undefined && tools.functions.length > 0) req.tools = tools.functions;
  if (tools !== undefined && tools.namespaced.size > 0) req.namespaced = tools.namespaced;
  if (body.tool_choice !== undefined && body.tool_choice !== null) req.tool_choice = convertToolChoice(body.tool_choice);
  const parallel = optBoolean(body.parallel_tool_calls, 'parallel_tool_calls');
  if (parallel !== undefined) req.parallel_tool_calls = parallel;
  const user = optString(body.user, 'user') ?? optString(body.safety_identifier, 'safety_identifier');
  if (user !== undefined) req.user = user;
  const format = textFormat(body.text, ignored);
  if (format !== undefined) req.response_format = format;
  checkAdvisory(body, ignored);
  return req;
}

function rejectStateful(body: Obj, ignored: Ignored): void {
  const set = (v: unknown) => v !== undefined && v !== null;
  if (set(body.previous_response_id)) unsupported('previous_response_id', 'responses are not stored; send the whole conversation in input');
  if (set(body.conversation)) unsupported('conversation', 'conversations are not stored; send the whole conversation in input');
  if (body.store === true) unsupported('store', 'responses are not stored; set store to false or omit it');
  if (set(body.store)) {
    optBoolean(body.store, 'store');
    ignored.field('store');
  }
  if (body.background === true) unsupported('background', 'background responses are not supported');
  if (set(body.background)) optBoolean(body.background, 'background');
  if (set(body.prompt)) unsupported('prompt', 'stored prompt templates are not supported');
  if (set(body.top_logprobs) && body.top_logprobs !== 0) unsupported('top_logprobs', 'log probabilities are not returned');
  if (set(body.truncation)) {
    // `auto` drops context from the middle when it overflows; the model server truncates (or fails) on its own.
    oneOf(body.truncation, ['auto', 'disabled'] as const, 'truncation');
    ignored.field('truncation');
  }
}

/**
 * `text.format` -> the pivot's response_format: `text` (the default) is no field; `json_object` as is; `json_schema`
 * (flat here: name, schema, description, strict) as OpenAI Chat nests it. `text.verbosity` is a hint (ignored).
 */
function textFormat(raw: unknown, ignored: Ignored): ResponseFormat | undefined {
  if (raw === undefined || raw === null) return undefined;
  const text = requireObject(raw, 'text');
  acceptKeys(text, ['format', 'verbosity'], 'text', ignored);
  if (text.verbosity !== undefined && text.verbosity !== null) {
    requireString(text.verbosity, 'text.verbosity');
    ignored.field('text.verbosity');
  }
  if (text.format === undefined || text.format === null) return undefined;
  const format = requireObject(text.format, 'text.format');
  const type = oneOf(format.type, FORMAT_TYPES, 'text.format.type');
  if (type === 'text' || type === 'json_object') {
    acceptKeys(format, ['type'], 'text.format', ignored);
    return type === 'text' ? undefined : { type };
  }
  acceptKeys(format, ['type', 'name', 'schema', 'description', 'strict'], 'text.format', ignored);
  const name = requireString(format.name, 'text.format.name');
  if (!SCHEMA_NAME.test(name)) invalid('text.format.name', 'must be 1-64 of [A-Za-z0-9_-]');
  const out: Extract<ResponseFormat, { type: 'json_schema' }> = { type: 'json_schema', json_schema: { name, schema: requireObject(format.schema, 'text.format.schema') } };
  const description = optString(format.description, 'text.format.description');
  if (description !== undefined) out.json_schema.description = description;
  const strict = optBoolean(format.strict, 'text.format.strict');
  if (strict !== undefined) out.json_schema.strict = strict;
  return out;
}

/** `include` asks for extra output data (reasoning is always plain text here); `reasoning` is a hint. */
function checkAdvisory(body: Obj, ignored: Ignored): void {
  if (body.include !== undefined && body.include !== null) {
    requireArray(body.include, 'include').forEach((v, i) => requireString(v, `include[${i}]`));
    ignored.field('include');
  }
  if (body.reasoning !== undefined && body.reasoning !== null) {
    const reasoning = requireObject(body.reasoning, 'reasoning');
    for (const key of ['effort', 'summary', 'generate_summary'] as const) {
      if (reasoning[key] !== undefined && reasoning[key] !== null) requireString(reasoning[key], `reasoning.${key}`);
    }
    ignored.field('reasoning');
  }
  if (body.metadata !== undefined && body.metadata !== null) {
    for (const [key, value] of Object.entries(requireObject(body.metadata, 'metadata'))) requireString(value, `metadata.${key}`);
  }
  if (body.stream_options !== undefined && body.stream_options !== null) {
    const options = requireObject(body.stream_options, 'stream_options');
    acceptKeys(options, ['include_obfuscation'], 'stream_options', ignored);
    // No obfuscation padding is added to stream events.
    if (optBoolean(options.include_obfuscation, 'stream_options.include_obfuscation') !== undefined) ignored.field('stream_options.include_obfuscation');
  }
}

function optString(value: unknown, param: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  return requireString(value, param);
}
