import { ERRORS, TokiosError, type ErrorCode } from './registry.js';
import { isAnthropicProtocol, type CallerProtocol } from '../protocol/meta.js';

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}
export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
}

export function openaiErrorBody(code: ErrorCode, message: string, param: string | null = null): OpenAIErrorBody {
  return { error: { message, type: ERRORS[code].openai, param, code } };
}

export function anthropicErrorBody(code: ErrorCode, message: string): AnthropicErrorBody {
  return { type: 'error', error: { type: ERRORS[code].anthropic, message } };
}

/** The JSON body for an error, in the shape the caller's protocol expects. */
export function renderError(protocol: CallerProtocol, err: TokiosError): OpenAIErrorBody | AnthropicErrorBody {
  return isAnthropicProtocol(protocol) ? anthropicErrorBody(err.code, err.message) : openaiErrorBody(err.code, err.message, err.param);
}

/** An error after a stream has started, as one event in the caller's stream format. */
export function renderStreamError(protocol: CallerProtocol, err: TokiosError): string {
  switch (protocol) {
    case 'anthropic.messages':
    case 'anthropic.count_tokens':
      return `event: error\ndata: ${JSON.stringify(anthropicErrorBody(err.code, err.message))}\n\n`;
    case 'openai.responses':
      return `event: error\ndata: ${JSON.stringify({ type: 'error', code: err.code, message: err.message, param: err.param })}\n\n`;
    case 'openai.chat':
    case 'openai.completions':
    case 'openai.embeddings':
      return `data: ${JSON.stringify(openaiErrorBody(err.code, err.message, err.param))}\n\n`;
  }
}
