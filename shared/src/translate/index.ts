/** Public face of the translation layer: the connector calls planTranslation and the probe helpers. */
export type * from './pivot.js';
export type * from './adapter.js';
export {
  planTranslation,
  SSE_CONTENT_TYPE,
  JSON_CONTENT_TYPE,
  type PlanArgs,
  type TranslationPlan,
  type PassthroughPlan,
  type ResponseTranslator,
} from './plan.js';
export {
  detectUpstreamKind,
  chooseUpstreamModel,
  listOllamaModels,
  listOpenAIModels,
  MAX_MODELS,
  MAX_MODEL_NAME,
  type ProbeResult,
  type UpstreamProbes,
  type Detection,
} from './detect.js';
export { UPSTREAMS, openaiUpstream, ollamaUpstream, mapUpstreamHttpError } from './upstream/index.js';
export { openaiChatCaller } from './caller/openai-chat/index.js';
export { anthropicCaller } from './caller/anthropic/index.js';
export { responsesCaller } from './caller/responses/index.js';
export { CALLERS } from './callers.js';
export { PassthroughStreamFilter } from './passthrough.js';
