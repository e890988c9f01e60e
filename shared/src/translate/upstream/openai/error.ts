import type { ErrorCode } from '../../../errors/registry.js';
import { mapUpstreamHttpError } from '../http-error.js';

/** Non-2xx answer of an OpenAI-compatible server -> registry code + safe message. */
export function parseOpenAIError(status: number, bodyText: string): { code: ErrorCode; message: string } {
  return mapUpstreamHttpError(status, bodyText);
}
