import type { DecoderOptions, UpstreamAdapter } from '../../adapter.js';
import { parseOpenAIError } from './error.js';
import { buildOpenAIRequest, OPENAI_CHAT_PATH } from './request.js';
import { OpenAIStreamDecoder } from './stream.js';

export { buildOpenAIRequest, OPENAI_CHAT_PATH, OpenAIStreamDecoder, parseOpenAIError };

/** OpenAI-compatible upstream: vLLM, llama.cpp server, LM Studio, SGLang. */
export const openaiUpstream: UpstreamAdapter = {
  kind: 'openai',
  buildRequest: buildOpenAIRequest,
  createDecoder: (options?: DecoderOptions) => new OpenAIStreamDecoder(options),
  parseError: parseOpenAIError,
};
