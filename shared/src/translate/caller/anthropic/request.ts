import type { ChatMessage, ChatRequest, ResponseFormat } from '../../pivot.js';
import { ADVISORY_KEYS, REQUEST_KEYS, SERVICE_TIERS, THINKING_TYPES } from './maps.js';
import { convertMessages, systemText } from './content.js';
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
} from '../guard.js';

/**
 * Anthropic Messages request -> pivot ChatRequest (the policy, field by field: docs/protocols.md).
 *
 * Read fields are validated strictly (shapes, ranges; nothing is clamped). Advisory fields (ADVISORY_KEYS) are
 * shape-checked and ignored; keys this parser does not know are ignored too (clients add fields faster than a
 * gateway learns them); both are reported in `ignored`. A 400 remains only where the client relies on something a
 * private model cannot give (structured output formats), naming the field.
 *
 * `thinking` is validated and accepted as advisory: whether and how long a private model reasons is part of the
 * deployed model, and the pivot has no reasoning budget. Its reasoning is always returned as `thinking` blocks.
 */
export function parseAnthropicRequest(body: unknown, ignored: Ignored = new Ignored()): ChatRequest {
  if (!isObject(body)) invalid('body', 'must be a JSON object');
  acceptKeys(body, [...REQUEST_KEYS, ...Object.keys(ADVISORY_KEYS)], '', ignored);
  acceptAdvisory(body, ADVISORY_KEYS, '', ignored);

  const model = requireString(body.model, 'model');
  if (model.length === 0) invalid('model', 'must not be empty');
  if (body.max_tokens === undefined || body.max_tokens === null) invalid('max_tokens', 'is required');
  const maxTokens = optInt(body.max_tokens, 'max_tokens', 1) as number;

  const messages: ChatMessage[] = [];
  if (body.system !== undefined && body.system !== null) {
    const system = systemText(body.system, 'system', ignored);
    if (system.length > 0) messages.push({ role: 'system', content: system });
  }
  messages.push(...convertMessages(body.messages, ignored));

  const req: ChatRequest = {
    model,
    messages,
    stream: optBoolean(body.stream, 'stream') ?? false,
    max_tokens: maxTokens,
  };
  const temperature = optNumber(body.temperature, 'temperature', 0, 1);
  if (temperature !== undefined) req.temperature = temperature;
  const topP = optNumber(body.top_p, 'top_p', 0, 1);
  if (topP !== undefined) req.top_p = topP;
  const topK = optInt(body.top_k, 'top_k', 0);
  if (topK !== undefined) req.top_k = topK;
  const stop = stopSequences(body.stop_sequences);
  if (stop) req.stop = stop;
  const user = userId(body.metadata, ignored);
  if (user !== undefined) req.user = user;
  if (body.tools !== undefined && body.tools !== null) {
    const tools = convertTools(body.tools, ignored);
    if (tools.length > 0) req.tools = tools;
  }
  if (body.tool_choice !== undefined && body.tool_choice !== null) Object.assign(req, convertToolChoice(body.tool_choice));
  if (body.thinking !== undefined && body.thinking !== null) {
    checkThinking(body.thinking, maxTokens);
    ignored.field('thinking');
  }
  if (body.service_tier !== undefined && body.service_tier !== null) {
    oneOf(body.service_tier, SERVICE_TIERS, 'service_tier');
    ignored.field('service_tier');
  }
  if (body.output_config !== undefined && body.output_config !== null) {
    const format = outputConfig(requireObject(body.output_config, 'output_config'), ignored);
    if (format !== undefined) req.response_format = format;
  }
  if (body.output_format !== undefined && body.output_format !== null) req.response_format = structuredFormat(body.output_format, 'output_format');
  if (body.mcp_servers !== undefined && body.mcp_servers !== null) {
    // Remote MCP servers are called by Anthropic's service; a private deployment has no such runner (dropped).
    requireArray(body.mcp_servers, 'mcp_servers');
    ignored.field('mcp_servers');
  }
  return req;
}

function stopSequences(raw: unknown): string[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  const list = requireArray(raw, 'stop_sequences').map((s, i) => requireString(s, `stop_sequences[${i}]`));
  return list.length > 0 ? list : undefined;
}

/** `metadata.user_id` is mapped to the pivot's `user`; other metadata keys are ignored. */
function userId(raw: unknown, ignored: Ignored): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  const metadata = requireObject(raw, 'metadata');
  acceptKeys(metadata, ['user_id'], 'metadata', ignored);
  if (metadata.user_id === undefined || metadata.user_id === null) return undefined;
  return requireString(metadata.user_id, 'metadata.user_id');
}

/** `effort` is advisory (the pivot has no effort knob); a `format` is structured output (the pivot's response_format). */
function outputConfig(config: Record<string, unknown>, ignored: Ignored): ResponseFormat | undefined {
  if (config.effort !== undefined && config.effort !== null) requireString(config.effort, 'output_config.effort');
  acceptKeys(config, ['format'], 'output_config', ignored);
  return config.format !== undefined && config.format !== null ? structuredFormat(config.format, 'output_config.format') : undefined;
}

/**
 * Anthropic's structured output (`output_config.format`, and `output_format`, its beta name): `{type: "json_schema",
 * schema}` is the only type; it becomes the pivot's JSON-schema format, which Ollama takes as `format` and
 * OpenAI-compatible servers as `response_format` (guided decoding). The answer is the JSON as text, as Anthropic's is.
 */
function structuredFormat(raw: unknown, param: string): ResponseFormat {
  const format = requireObject(raw, param);
  oneOf(format.type, ['json_schema'] as const, `${param}.type`);
  const schema = requireObject(format.schema, `${param}.schema`);
  return { type: 'json_schema', json_schema: { name: 'output', schema } };
}

function checkThinking(raw: unknown, maxTokens: number): void {
  const thinking = requireObject(raw, 'thinking');
  const type = oneOf(thinking.type, THINKING_TYPES, 'thinking.type');
  if (type === 'enabled') {
    const budget = optInt(thinking.budget_tokens, 'thinking.budget_tokens', 1);
    if (budget === undefined) invalid('thinking.budget_tokens', 'is required when thinking is enabled');
    if (budget >= maxTokens) invalid('thinking.budget_tokens', 'must be less than max_tokens');
  }
}
