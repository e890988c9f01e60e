import type { ChatMessage, ChatRequest, ResponseFormat } from '../../pivot.js';
import { SCHEMA_NAME } from '../openai-chat/schema.js';
import { FORMAT_TYPES, INCLUDES, REASONING_EFFORTS, REASONING_SUMMARIES, REQUEST_KEYS, SERVICE_TIERS } from './maps.js';
import { convertInput } from './input.js';
import { convertToolChoice, convertTools } from './tools.js';
import {
  checkKeys,
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
 * OpenAI Responses request -> pivot ChatRequest.
 *
 * Tokios is stateless: anything that needs stored responses, conversations, prompts or background runs is a 400
 * naming the parameter, as are built-in tools. `text.format` (json_object, json_schema) is structured output. Unknown parameters are a
 * 400 too (as the API does). Nothing is clamped.
 *
 * Accepted without effect on generation (documented): `metadata`, `prompt_cache_key`, `stream_options`,
 * `service_tier` auto/default, `include: ["reasoning.encrypted_content"]` (reasoning is returned as plain text), and
 * `reasoning` (validated, advisory: how a private model reasons is part of the deployment; the pivot has no effort knob).
 */
export function parseResponsesRequest(body: unknown): ChatRequest {
  if (!isObject(body)) invalid('body', 'must be a JSON object');
  checkKeys(body, REQUEST_KEYS, '');
  rejectStateful(body);

  const model = requireString(body.model, 'model');
  if (model.length === 0) invalid('model', 'must not be empty');
  if (body.input === undefined || body.input === null) invalid('input', 'is required');

  const messages: ChatMessage[] = [];
  if (body.instructions !== undefined && body.instructions !== null) {
    const instructions = requireString(body.instructions, 'instructions');
    if (instructions.length > 0) messages.push({ role: 'system', content: instructions });
  }
  messages.push(...convertInput(body.input));
  if (messages.length === 0) invalid('input', 'must not be empty');

  const req: ChatRequest = { model, messages, stream: optBoolean(body.stream, 'stream') ?? false };
  const maxTokens = optInt(body.max_output_tokens, 'max_output_tokens', 1);
  if (maxTokens !== undefined) req.max_tokens = maxTokens;
  const temperature = optNumber(body.temperature, 'temperature', 0, 2);
  if (temperature !== undefined) req.temperature = temperature;
  const topP = optNumber(body.top_p, 'top_p', 0, 1);
  if (topP !== undefined) req.top_p = topP;
  if (body.tools !== undefined && body.tools !== null) {
    const tools = convertTools(body.tools);
    if (tools.length > 0) req.tools = tools;
  }
  if (body.tool_choice !== undefined && body.tool_choice !== null) req.tool_choice = convertToolChoice(body.tool_choice);
  const parallel = optBoolean(body.parallel_tool_calls, 'parallel_tool_calls');
  if (parallel !== undefined) req.parallel_tool_calls = parallel;
  const user = optString(body.user, 'user') ?? optString(body.safety_identifier, 'safety_identifier');
  if (user !== undefined) req.user = user;
  const format = textFormat(body.text);
  if (format !== undefined) req.response_format = format;
  checkAdvisory(body);
  return req;
}

function rejectStateful(body: Obj): void {
  const set = (v: unknown) => v !== undefined && v !== null;
  if (set(body.previous_response_id)) unsupported('previous_response_id', 'responses are not stored; send the whole conversation in input');
  if (set(body.conversation)) unsupported('conversation', 'conversations are not stored; send the whole conversation in input');
  if (body.store === true) unsupported('store', 'responses are not stored; set store to false or omit it');
  if (set(body.store)) optBoolean(body.store, 'store');
  if (body.background === true) unsupported('background', 'background responses are not supported');
  if (set(body.background)) optBoolean(body.background, 'background');
  if (set(body.prompt)) unsupported('prompt', 'stored prompt templates are not supported');
  if (set(body.max_tool_calls)) unsupported('max_tool_calls', 'a tool call limit cannot be enforced');
  if (set(body.top_logprobs) && body.top_logprobs !== 0) unsupported('top_logprobs', 'log probabilities are not returned');
  if (set(body.truncation) && oneOf(body.truncation, ['auto', 'disabled'] as const, 'truncation') === 'auto') {
    unsupported('truncation', 'automatic truncation is not supported; use disabled');
  }
}

/**
 * `text.format` -> the pivot's response_format: `text` (the default) is no field; `json_object` as is; `json_schema`
 * (flat here: name, schema, description, strict) as OpenAI Chat nests it.
 */
function textFormat(raw: unknown): ResponseFormat | undefined {
  if (raw === undefined || raw === null) return undefined;
  const text = requireObject(raw, 'text');
  checkKeys(text, ['format', 'verbosity'], 'text');
  if (text.verbosity !== undefined && text.verbosity !== null) unsupported('text.verbosity', 'verbosity cannot be controlled');
  if (text.format === undefined || text.format === null) return undefined;
  const format = requireObject(text.format, 'text.format');
  const type = oneOf(format.type, FORMAT_TYPES, 'text.format.type');
  if (type === 'text' || type === 'json_object') {
    checkKeys(format, ['type'], 'text.format');
    return type === 'text' ? undefined : { type };
  }
  checkKeys(format, ['type', 'name', 'schema', 'description', 'strict'], 'text.format');
  const name = requireString(format.name, 'text.format.name');
  if (!SCHEMA_NAME.test(name)) invalid('text.format.name', 'must be 1-64 of [A-Za-z0-9_-]');
  const out: Extract<ResponseFormat, { type: 'json_schema' }> = { type: 'json_schema', json_schema: { name, schema: requireObject(format.schema, 'text.format.schema') } };
  const description = optString(format.description, 'text.format.description');
  if (description !== undefined) out.json_schema.description = description;
  const strict = optBoolean(format.strict, 'text.format.strict');
  if (strict !== undefined) out.json_schema.strict = strict;
  return out;
}

function checkAdvisory(body: Obj): void {
  if (body.include !== undefined && body.include !== null) {
    requireArray(body.include, 'include').forEach((v, i) => {
      if (!(INCLUDES as readonly unknown[]).includes(v)) unsupported(`include[${i}]`, 'this include value is not supported');
    });
  }
  if (body.reasoning !== undefined && body.reasoning !== null) {
    const reasoning = requireObject(body.reasoning, 'reasoning');
    checkKeys(reasoning, ['effort', 'summary', 'generate_summary'], 'reasoning');
    if (reasoning.effort != null) oneOf(reasoning.effort, REASONING_EFFORTS, 'reasoning.effort');
    if (reasoning.summary != null) oneOf(reasoning.summary, REASONING_SUMMARIES, 'reasoning.summary');
    if (reasoning.generate_summary != null) oneOf(reasoning.generate_summary, REASONING_SUMMARIES, 'reasoning.generate_summary');
  }
  if (body.service_tier !== undefined && body.service_tier !== null) {
    if (!(SERVICE_TIERS as readonly unknown[]).includes(body.service_tier)) unsupported('service_tier', 'only auto and default are supported');
  }
  if (body.metadata !== undefined && body.metadata !== null) {
    for (const [key, value] of Object.entries(requireObject(body.metadata, 'metadata'))) requireString(value, `metadata.${key}`);
  }
  optString(body.prompt_cache_key, 'prompt_cache_key');
  if (body.stream_options !== undefined && body.stream_options !== null) {
    const options = requireObject(body.stream_options, 'stream_options');
    checkKeys(options, ['include_obfuscation'], 'stream_options');
    optBoolean(options.include_obfuscation, 'stream_options.include_obfuscation');
  }
}

function optString(value: unknown, param: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  return requireString(value, param);
}
