import type { CallerAdapter } from '../../adapter.js';
import { parseAnthropicRequest } from './request.js';
import { createAnthropicEncoder } from './stream.js';
import { createAnthropicAggregator } from './aggregate.js';

export { parseAnthropicRequest, createAnthropicEncoder, createAnthropicAggregator };
export { STOP_REASON } from './maps.js';

/** Caller protocol: Anthropic Messages (`POST /v1/messages`). */
export const anthropicCaller: CallerAdapter = {
  protocol: 'anthropic.messages',
  parseRequest: parseAnthropicRequest,
  createStreamEncoder: createAnthropicEncoder,
  createAggregator: createAnthropicAggregator,
};
