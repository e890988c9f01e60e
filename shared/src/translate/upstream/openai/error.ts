import type { ErrorCode } from '../../../errors/registry.js';
import { errorMessageOf, mapUpstreamHttpError, midStreamMessage } from '../http-error.js';
import type { JsonRecord } from '../../util.js';

/** Non-2xx answer of an OpenAI-compatible server -> registry code + safe message. */
export function parseOpenAIError(status: number, bodyText: string): { code: ErrorCode; message: string } {
  return mapUpstreamHttpError(status, bodyText);
}

/**
 * The one rule for an error event inside an OpenAI-compatible stream, translated or passed through: `{"error":…}`
 * (non-null) or vLLM's `{"object":"error",…}`, without `choices` (a chunk that has them is a chunk). Returns the
 * message the caller gets, or undefined when the chunk is no error event.
 */
export function inStreamError(chunk: JsonRecord): string | undefined {
  const isError = (chunk['error'] !== undefined && chunk['error'] !== null) || chunk['object'] === 'error';
  if (!isError || Array.isArray(chunk['choices'])) return undefined;
  return midStreamMessage(errorMessageOf(chunk));
}
