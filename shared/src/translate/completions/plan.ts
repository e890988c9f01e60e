import { TokiosError } from '../../errors/registry.js';
import type { DecoderOptions, UpstreamDecoder, UpstreamHttpRequest } from '../adapter.js';
import { StreamAnswer, WholeAnswer } from '../answer/translated.js';
import type { UpstreamPlan } from '../answer/translator.js';
import { upstreamErrorAnswer } from '../answer/upstream-error.js';
import { planPassthrough } from '../passthrough/plan.js';
import type { PlanMeta, PlanOptions, UpstreamTarget } from '../plan.js';
import { isRecord, parseJson } from '../util.js';
import { CompletionsAggregator, CompletionsStreamEncoder } from './caller.js';
import { buildInfillRequest, InfillDecoder } from './infill.js';
import { buildGenerateRequest, OllamaGenerateDecoder } from './ollama.js';
import { parseCompletionRequest, type CompletionRequest } from './request.js';

export const OPENAI_COMPLETIONS_PATH = '/v1/completions';

/** A model server API that legacy completions are translated to. */
interface CompletionUpstream {
  build(req: CompletionRequest, model: string): UpstreamHttpRequest;
  createDecoder(options?: DecoderOptions): UpstreamDecoder;
}

type TranslatedRoute = 'ollama-generate' | 'llamacpp-infill';

const COMPLETION_UPSTREAMS = {
  'ollama-generate': { build: (req, model) => buildGenerateRequest(req, { model }), createDecoder: (o) => new OllamaGenerateDecoder(o) },
  'llamacpp-infill': { build: (req) => buildInfillRequest(req), createDecoder: (o) => new InfillDecoder(o) },
} as const satisfies Record<TranslatedRoute, CompletionUpstream>;

/**
 * Where a legacy completion goes:
 *  - Ollama: /api/generate (translated; `suffix` is Ollama's fill-in-the-middle).
 *  - An OpenAI-compatible server: /v1/completions, the body passed through (`model` renamed, a stream asked for
 *    usage), `suffix` included: vLLM, SGLang, LM Studio and llama.cpp decide what they do with it.
 *  - Except a request with a `suffix` to a llama.cpp server (`infill`, detected at connector start by its GET /props):
 *    llama.cpp's /v1/completions ignores `suffix`, its /infill endpoint does fill-in-the-middle, so it goes there
 *    (translated).
 */
export function planCompletions(meta: PlanMeta, raw: Buffer, upstream: UpstreamTarget, options: PlanOptions): UpstreamPlan {
  if (upstream.kind === 'openai' && !(upstream.infill === true && hasSuffix(raw))) {
    return planPassthrough(meta.model, meta.stream, raw, upstream.model, OPENAI_COMPLETIONS_PATH);
  }
  const parsed = parseJson(raw.toString('utf8'));
  if (!parsed.ok) throw new TokiosError('invalid_json');
  const req = parseCompletionRequest(parsed.value);
  const route = COMPLETION_UPSTREAMS[upstream.kind === 'ollama' ? 'ollama-generate' : 'llamacpp-infill'];
  const ctx = { model: meta.model, requestId: meta.rid.replace(/[^A-Za-z0-9]/g, ''), includeUsage: req.includeUsage };
  return {
    ...route.build(req, upstream.model),
    translate(status) {
      if (status < 200 || status >= 300) return upstreamErrorAnswer(meta.protocol, upstream.kind, status);
      const decoder = route.createDecoder(options.decoderOptions);
      return req.stream ? new StreamAnswer(decoder, new CompletionsStreamEncoder(ctx)) : new WholeAnswer(decoder, new CompletionsAggregator(ctx), meta.protocol);
    },
  };
}

function hasSuffix(raw: Buffer): boolean {
  const parsed = parseJson(raw.toString('utf8'));
  if (!parsed.ok || !isRecord(parsed.value)) return false;
  const suffix = parsed.value['suffix'];
  return typeof suffix === 'string' && suffix.length > 0;
}
