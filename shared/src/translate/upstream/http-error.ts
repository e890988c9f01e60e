import type { ErrorCode } from '../../errors/registry.js';
import { isRecord, parseJson } from '../util.js';

/** Longest upstream-provided text shown to a caller. */
export const MAX_UPSTREAM_MESSAGE = 300;
/** Only this much of an error body is ever parsed (JSON bodies cut here count as no message). */
const MAX_BODY_SCAN = 1024 * 1024;

/**
 * Finds the human message in an upstream error value: OpenAI / llama.cpp `{error:{message}}`, Ollama
 * `{error:"…"}`, vLLM `{object:"error", message}`, FastAPI `{detail:"…"}`.
 */
export function errorMessageOf(value: unknown): string | undefined {
  if (!isRecord(value)) return undefined;
  const e = value['error'];
  if (typeof e === 'string') return e;
  if (isRecord(e) && typeof e['message'] === 'string') return e['message'];
  if (typeof value['message'] === 'string') return value['message'];
  if (typeof value['detail'] === 'string') return value['detail'];
  return undefined;
}

/** Whitespace collapsed, control characters dropped, truncated with an ellipsis. */
export function safeText(text: string, max = MAX_UPSTREAM_MESSAGE): string {
  let out = '';
  let space = false;
  for (let i = 0; i < text.length && out.length <= max; i++) {
    const c = text.charCodeAt(i);
    if (c <= 32 || c === 127) {
      space = out.length > 0;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += text[i];
  }
  return out.length > max ? out.slice(0, max - 1) + '…' : out;
}

/** The message of an in-stream `error` member: a string, or an object's `message`; '' when it has none. */
export function errorMessage(error: unknown): string {
  return typeof error === 'string' ? error : isRecord(error) && typeof error['message'] === 'string' ? error['message'] : '';
}

/** What a caller is told when the model server fails after its answer started, with its own message made safe. */
export function midStreamMessage(message: string | undefined): string {
  return message === undefined || message.length === 0 ? 'The model server failed mid-stream.' : `The model server failed: ${safeText(message)}`;
}

/** The upstream's own message from a non-2xx body, made safe; undefined for empty or HTML bodies. */
export function upstreamBodyMessage(bodyText: string): string | undefined {
  const body = bodyText.length > MAX_BODY_SCAN ? bodyText.slice(0, MAX_BODY_SCAN) : bodyText;
  const trimmed = body.trimStart();
  if (trimmed.length === 0 || trimmed.startsWith('<')) return undefined;
  const parsed = parseJson(body);
  const raw = parsed.ok ? errorMessageOf(parsed.value) : trimmed.startsWith('{') ? undefined : body;
  if (raw === undefined) return undefined;
  const text = safeText(raw);
  return text.length > 0 ? text : undefined;
}

/** HTTP status of a failed upstream call -> registry code; statuses not listed fall back by class. */
const STATUS_CODES = {
  400: 'invalid_request',
  401: 'upstream_error',
  403: 'upstream_error',
  404: 'model_not_found',
  408: 'timeout',
  413: 'body_too_large',
  422: 'invalid_request',
  429: 'rate_limited',
  503: 'capacity',
  504: 'timeout',
} as const satisfies Record<number, ErrorCode>;

/**
 * Maps a non-2xx upstream answer to a registry code and a message safe to show to the caller.
 *  - 401/403: the connector's credentials for its own model server are wrong; the caller gets a fixed message.
 *  - 404 naming a model: model_not_found with a fixed message (the upstream model name is not the caller's
 *    business); any other 404 means a wrong base URL: upstream_error.
 *  - 503 (vLLM / Ollama queue full): capacity, so the caller may retry.
 *  - otherwise the upstream's message, cleaned and truncated, after a short prefix.
 */
export function mapUpstreamHttpError(status: number, bodyText: string): { code: ErrorCode; message: string } {
  const detail = upstreamBodyMessage(bodyText);
  const known = (STATUS_CODES as Record<number, ErrorCode>)[status];
  const code: ErrorCode = known ?? (status >= 400 && status < 500 ? 'invalid_request' : 'upstream_error');
  if (status === 401 || status === 403) {
    return { code, message: `The model server refused the connector's credentials (HTTP ${status}).` };
  }
  if (status === 404) {
    if (detail !== undefined && /model/i.test(detail)) {
      return { code: 'model_not_found', message: 'The model server does not have the model this deployment is configured for.' };
    }
    return { code: 'upstream_error', message: 'The model server has no such endpoint (HTTP 404).' };
  }
  const prefix = code === 'invalid_request' || code === 'body_too_large' ? 'The model server rejected the request' : 'The model server failed';
  return { code, message: detail === undefined ? `${prefix} (HTTP ${status}).` : `${prefix} (HTTP ${status}): ${detail}` };
}
