/** Public face of the translation layer: the connector calls planTranslation and the probe helpers. */
export type * from './pivot.js';
export type * from './adapter.js';
export { planTranslation, type PlanMeta, type PlanOptions, type UpstreamTarget } from './plan.js';
export { SSE_CONTENT_TYPE, JSON_CONTENT_TYPE, type AnswerTranslator, type UpstreamPlan } from './answer/translator.js';
export {
  detectUpstreamKind,
  isLlamaCppProps,
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
export { Ignored, IGNORED_HEADER, IGNORED_NAME, MAX_IGNORED, UNNAMED } from './caller/ignored.js';
