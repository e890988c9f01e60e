import { TokiosError } from '../errors/registry.js';
import type { CallerProtocol, ChatProtocol, UpstreamKind } from '../protocol/meta.js';
import type { CallerContext, DecoderOptions } from './adapter.js';
import { StreamAnswer, WholeAnswer } from './answer/translated.js';
import type { UpstreamPlan } from './answer/translator.js';
import { upstreamErrorAnswer } from './answer/upstream-error.js';
import { CALLERS } from './callers.js';
import { planCompletions } from './completions/plan.js';
import { planEmbeddings } from './embeddings/plan.js';
import { planCountTokens } from './count-tokens/plan.js';
import { planPassthrough } from './passthrough/plan.js';
import { UPSTREAMS } from './upstream/index.js';
import { parseJson } from './util.js';
import { Ignored } from './caller/ignored.js';

/** What the plan needs of the tunnelled request (the Request frame's metadata). */
export interface PlanMeta {
  rid: string;
  protocol: CallerProtocol;
  /** The deployment name the caller sent as `model`; answers carry it back. */
  model: string;
  stream: boolean;
}

/** The model server behind this connector, and the model name it is asked for. */
export interface UpstreamTarget {
  kind: UpstreamKind;
  model: string;
  /** An OpenAI-compatible llama.cpp server (GET /props at connector start): fill-in-the-middle goes to its /infill. */
  infill?: boolean;
}

export interface PlanOptions {
  /** Tests only: deterministic ids and time for the upstream decoder. */
  decoderOptions?: DecoderOptions;
}

/**
 * The one seam between the connector's I/O and translation: how a tunnelled request goes to the model server, and
 * how each byte of its answer comes back in the caller's protocol.
 *
 * * OpenAI Chat caller and OpenAI-compatible upstream: passthrough (see passthrough/plan.ts).
 * * Anything else: caller request -> pivot -> upstream request; the answer upstream bytes -> pivot events -> the
 *   caller's stream events or whole body.
 * * Legacy completions and embeddings: completions/plan.ts and embeddings/plan.ts.
 * * A non-2xx answer from the model server: the caller's error shape, in every case.
 *
 * Throws TokiosError (invalid_json, invalid_request, unsupported_parameter) before anything is sent upstream.
 */
export function planTranslation(meta: PlanMeta, raw: Buffer, upstream: UpstreamTarget, options: PlanOptions = {}): UpstreamPlan {
  return PLANNERS[meta.protocol](meta, raw, upstream, options);
}

type Planner = (meta: PlanMeta, raw: Buffer, upstream: UpstreamTarget, options: PlanOptions) => UpstreamPlan;

const chat =
  (protocol: ChatProtocol): Planner =>
  (meta, raw, upstream, options) =>
    planChat(protocol, meta, raw, upstream, options);

/** One planner per caller protocol: conversations through the chat pivot, legacy completions and embeddings their own. */
const PLANNERS = {
  'openai.chat': chat('openai.chat'),
  'openai.responses': chat('openai.responses'),
  'anthropic.messages': chat('anthropic.messages'),
  'openai.completions': planCompletions,
  'openai.embeddings': planEmbeddings,
  'anthropic.count_tokens': planCountTokens,
} as const satisfies Record<CallerProtocol, Planner>;

function planChat(protocol: ChatProtocol, meta: PlanMeta, raw: Buffer, upstream: UpstreamTarget, options: PlanOptions): UpstreamPlan {
  if (protocol === 'openai.chat' && upstream.kind === 'openai') return planPassthrough(meta.model, meta.stream, raw, upstream.model);
  const parsed = parseJson(raw.toString('utf8'));
  if (!parsed.ok) throw new TokiosError('invalid_json');
  const caller = CALLERS[protocol];
  const ignored = new Ignored();
  const req = caller.parseRequest(parsed.value, ignored);
  const adapter = UPSTREAMS[upstream.kind];
  const request = adapter.buildRequest(req, { model: upstream.model });
  const ctx: CallerContext = { model: meta.model, requestId: meta.rid.replace(/[^A-Za-z0-9]/g, '') };
  if (req.stream_options?.include_usage === true) ctx.includeUsage = true;
  if (req.stop !== undefined) ctx.stopSequences = req.stop;
  if (caller.requestEcho !== undefined) ctx.echo = caller.requestEcho(parsed.value);
  if (req.namespaced !== undefined) ctx.toolNames = req.namespaced;
  return {
    ...request,
    ignored: ignored.list(),
    translate(status) {
      if (status < 200 || status >= 300) return upstreamErrorAnswer(protocol, upstream.kind, status);
      const decoder = adapter.createDecoder(options.decoderOptions);
      return req.stream ? new StreamAnswer(decoder, caller.createStreamEncoder(ctx)) : new WholeAnswer(decoder, caller.createAggregator(ctx), protocol);
    },
  };
}
