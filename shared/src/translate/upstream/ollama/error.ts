import type { ErrorCode } from '../../../errors/registry.js';
import { mapUpstreamHttpError } from '../http-error.js';

/** Non-2xx answer of Ollama (`{"error":"…"}`) -> registry code + safe message. */
export function parseOllamaError(status: number, bodyText: string): { code: ErrorCode; message: string } {
  return mapUpstreamHttpError(status, bodyText);
}
