import type { CallerAdapter } from '../../adapter.js';
import { parseResponsesRequest } from './request.js';
import { createResponsesEncoder } from './stream.js';
import { createResponsesAggregator } from './aggregate.js';
import { responsesEcho } from './echo.js';

export { parseResponsesRequest, createResponsesEncoder, createResponsesAggregator };
export { TERMINAL } from './maps.js';

/** Caller protocol: OpenAI Responses (`POST /v1/responses`), stateless. */
export const responsesCaller: CallerAdapter = {
  protocol: 'openai.responses',
  parseRequest: parseResponsesRequest,
  requestEcho: responsesEcho,
  createStreamEncoder: createResponsesEncoder,
  createAggregator: createResponsesAggregator,
};
