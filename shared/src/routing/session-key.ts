import { sha256Hex } from '../codec/sha256.js';
import type { CallerProtocol } from '../protocol/meta.js';

/**
 * Headers coding agents send that name one conversation, most specific first: opencode's `x-session-affinity`
 * (sent for exactly this purpose) and `x-session-id`, Claude Code's `x-claude-code-session-id`, Codex's `session-id`.
 */
export const SESSION_HEADERS = ['x-session-affinity', 'x-claude-code-session-id', 'session-id', 'x-session-id'] as const;

/** Longer client-chosen values are cut here before hashing (they only need to tell sessions apart). */
const MAX_VALUE = 1024;
/** A fallback prefix is hashed from at most this much of the leading messages' JSON. */
const MAX_PREFIX = 16 * 1024;

/** Where a session key came from (a bounded metrics/log label). */
export type SessionSource = 'prompt_cache_key' | 'header' | 'metadata.user_id' | 'user' | 'prefix' | 'none';

export interface SessionKey {
  /** 32 hex digits, scoped to the tenant and the deployment: never the client's value itself. */
  key: string;
  source: SessionSource;
}

type Headers = Record<string, string | string[] | undefined>;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, MAX_VALUE) : undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * What stays the same over the turns of one conversation when the client names none: the system prompt and the first
 * turn, per protocol (agents resend the whole, ever-growing history; its beginning is fixed).
 */
const LEADING = {
  'openai.chat': (b) => (Array.isArray(b['messages']) ? b['messages'].slice(0, 2) : undefined),
  'openai.responses': (b) => [b['instructions'] ?? null, Array.isArray(b['input']) ? b['input'].slice(0, 1) : (b['input'] ?? null)],
  'anthropic.messages': (b) => [b['system'] ?? null, Array.isArray(b['messages']) ? b['messages'].slice(0, 1) : null],
  // An editor's completions share the file's beginning.
  'openai.completions': (b) => (typeof b['prompt'] === 'string' ? b['prompt'].slice(0, 1024) : undefined),
  'openai.embeddings': () => undefined,
  // Counted where the conversation runs: the model server's prompt cache makes the count cheap.
  'anthropic.count_tokens': (b) => [b['system'] ?? null, Array.isArray(b['messages']) ? b['messages'].slice(0, 1) : null],
} as const satisfies Record<CallerProtocol, (body: Record<string, unknown>) => unknown>;

function digest(scope: string, source: SessionSource, value: string): string {
  // One string, one hash: the same digest as hashing the parts one after the other.
  return sha256Hex(`${scope}\0${source}\0${value}`).slice(0, 32);
}

/**
 * The session a request belongs to, for cache-affine placement: the first of `prompt_cache_key` (OpenAI, Codex), a
 * session header (SESSION_HEADERS), Anthropic `metadata.user_id` (Claude Code puts its session in it), OpenAI `user`,
 * else a hash of the conversation's leading messages (LEADING). Hashed with `scope` (tenant and deployment), so equal
 * client values of different tenants never share a home, and the client's strings go nowhere.
 */
export function sessionKey(protocol: CallerProtocol, body: Record<string, unknown>, headers: Headers, scope: string): SessionKey {
  const cacheKey = text(body['prompt_cache_key']);
  if (cacheKey !== undefined) return { key: digest(scope, 'prompt_cache_key', cacheKey), source: 'prompt_cache_key' };
  for (const name of SESSION_HEADERS) {
    const raw = headers[name];
    const value = text(Array.isArray(raw) ? raw[0] : raw);
    if (value !== undefined) return { key: digest(scope, 'header', value), source: 'header' };
  }
  const userId = text(record(body['metadata'])?.['user_id']);
  if (userId !== undefined) return { key: digest(scope, 'metadata.user_id', userId), source: 'metadata.user_id' };
  const user = text(body['user']);
  if (user !== undefined) return { key: digest(scope, 'user', user), source: 'user' };
  const leading = LEADING[protocol](body);
  if (leading === undefined) return { key: '', source: 'none' };
  const json = JSON.stringify(leading) ?? '';
  return { key: digest(scope, 'prefix', json.slice(0, MAX_PREFIX)), source: 'prefix' };
}
