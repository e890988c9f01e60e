import type { ChatMessage, ChatRequest } from '../../pivot.js';
import { REQUEST_KEYS, SERVICE_TIERS, THINKING_TYPES } from './maps.js';
import { convertMessages, systemText } from './content.js';
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
} from '../guard.js';

/**
 * Anthropic Messages request -> pivot ChatRequest.
 *
 * Unknown top-level parameters are a 400 naming them (as the Messages API does); nothing is clamped.
 *
 * `thinking` is validated and accepted as advisory: whether and how long a private model reasons is part of the
 * deployed model, and the pivot has no reasoning budget. Its reasoning is always returned as `thinking` blocks.
 * Rejecting it would break clients (e.g. Claude Code) that send it whenever the user turns thinking on.
 */
export function parseAnthropicRequest(body: unknown): ChatRequest {
  if (!isObject(body)) invalid('body', 'must be a JSON object');
  checkKeys(body, REQUEST_KEYS, '');

  const model = requireString(body.model, 'model');
  if (model.length === 0) invalid('model', 'must not be empty');
  if (body.max_tokens === undefined || body.max_tokens === null) invalid('max_tokens', 'is required');
  const maxTokens = optInt(body.max_tokens, 'max_tokens', 1) as number;

  const messages: ChatMessage[] = [];
  if (body.system !== undefined && body.system !== null) {
    const system = systemText(body.system, 'system');
    if (system.length > 0) messages.push({ role: 'system', content: system });
  }
  messages.push(...convertMessages(body.messages));

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
  const user = userId(body.metadata);
  if (user !== undefined) req.user = user;
  if (body.tools !== undefined && body.tools !== null) {
    const tools = convertTools(body.tools);
    if (tools.length > 0) req.tools = tools;
  }
  if (body.tool_choice !== undefined && body.tool_choice !== null) Object.assign(req, convertToolChoice(body.tool_choice));
  if (body.thinking !== undefined && body.thinking !== null) checkThinking(body.thinking, maxTokens);
  if (body.service_tier !== undefined && body.service_tier !== null) oneOf(body.service_tier, SERVICE_TIERS, 'service_tier');
  return req;
}

function stopSequences(raw: unknown): string[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  const list = requireArray(raw, 'stop_sequences').map((s, i) => requireString(s, `stop_sequences[${i}]`));
  return list.length > 0 ? list : undefined;
}

function userId(raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  const metadata = requireObject(raw, 'metadata');
  checkKeys(metadata, ['user_id'], 'metadata');
  if (metadata.user_id === undefined || metadata.user_id === null) return undefined;
  return requireString(metadata.user_id, 'metadata.user_id');
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
