import type { CallerAdapter, CallerContext } from '../../adapter.js';
import { OpenAIChatAggregator, type ChatCompletion } from './aggregate.js';
import { IGNORED_FIELDS, parseOpenAIChatRequest } from './request.js';
import { completionId, OpenAIChatStreamEncoder, openaiStreamError } from './stream.js';

export { completionId, IGNORED_FIELDS, OpenAIChatAggregator, OpenAIChatStreamEncoder, openaiStreamError, parseOpenAIChatRequest, type ChatCompletion };

/** OpenAI Chat Completions callers (used when the upstream is not OpenAI-compatible; otherwise passthrough). */
export const openaiChatCaller: CallerAdapter = {
  protocol: 'openai.chat',
  parseRequest: parseOpenAIChatRequest,
  createStreamEncoder: (ctx: CallerContext) => new OpenAIChatStreamEncoder(ctx),
  createAggregator: (ctx: CallerContext) => new OpenAIChatAggregator(ctx),
};
