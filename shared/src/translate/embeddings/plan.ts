import { TokiosError } from '../../errors/registry.js';
import type { UpstreamKind } from '../../protocol/meta.js';
import type { UpstreamPlan } from '../answer/translator.js';
import { upstreamErrorAnswer } from '../answer/upstream-error.js';
import { planPassthrough } from '../passthrough/plan.js';
import type { PlanMeta, UpstreamTarget } from '../plan.js';
import { parseJson } from '../util.js';
import { buildEmbedRequest, OllamaEmbeddingsAnswer } from './ollama.js';
import { parseEmbeddingsRequest } from './request.js';

export const OPENAI_EMBEDDINGS_PATH = '/v1/embeddings';

type EmbeddingsPlanner = (meta: PlanMeta, raw: Buffer, upstream: UpstreamTarget) => UpstreamPlan;

/**
 * OpenAI-compatible servers have /v1/embeddings: the body passes through (`model` renamed; the answer whole, its
 * usage read). Ollama gets its native /api/embed and the answer is translated (see OllamaEmbeddingsAnswer).
 */
const EMBEDDING_PLANS = {
  openai: (meta, raw, upstream) => planPassthrough(meta.model, false, raw, upstream.model, OPENAI_EMBEDDINGS_PATH),
  ollama: (meta, raw, upstream) => {
    const parsed = parseJson(raw.toString('utf8'));
    if (!parsed.ok) throw new TokiosError('invalid_json');
    const req = parseEmbeddingsRequest(parsed.value);
    return {
      ...buildEmbedRequest(req, { model: upstream.model }),
      translate: (status) => (status < 200 || status >= 300 ? upstreamErrorAnswer(meta.protocol, upstream.kind, status) : new OllamaEmbeddingsAnswer(req, meta.model)),
    };
  },
} as const satisfies Record<UpstreamKind, EmbeddingsPlanner>;

/** POST /v1/embeddings, for the upstream behind this connector. Never streamed. */
export function planEmbeddings(meta: PlanMeta, raw: Buffer, upstream: UpstreamTarget): UpstreamPlan {
  return EMBEDDING_PLANS[upstream.kind](meta, raw, upstream);
}
