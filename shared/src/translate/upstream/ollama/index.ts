import type { DecoderOptions, UpstreamAdapter } from '../../adapter.js';
import { parseOllamaError } from './error.js';
import { base64Image, buildOllamaRequest, OLLAMA_CHAT_PATH, toOllamaMessages, type OllamaMessage } from './request.js';
import { OllamaStreamDecoder } from './stream.js';

export { base64Image, buildOllamaRequest, OLLAMA_CHAT_PATH, OllamaStreamDecoder, parseOllamaError, toOllamaMessages, type OllamaMessage };

/** Ollama's native /api/chat. */
export const ollamaUpstream: UpstreamAdapter = {
  kind: 'ollama',
  buildRequest: buildOllamaRequest,
  createDecoder: (options?: DecoderOptions) => new OllamaStreamDecoder(options),
  parseError: parseOllamaError,
};
