import { z } from 'zod';
import { TokiosError } from '../../errors/registry.js';
import { isRecord } from '../util.js';
import { zodToError } from '../zod-error.js';

/** Size limits at the boundary (the ingress also caps the whole body). */
const LIMITS = { text: 8 * 1024 * 1024, stop: 16, stopLength: 1_024, user: 1_024, model: 256 } as const;

/** What the OpenAI legacy Completions API uses when `max_tokens` is not sent. */
export const DEFAULT_COMPLETION_MAX_TOKENS = 16;

const text = z.string().max(LIMITS.text);
const tokens = z.array(z.number().int().min(0)).max(1_000_000);

/** OpenAI `POST /v1/completions` as documented; anything else is refused by name (see parseCompletionRequest). */
const completionBodySchema = z.object({
  model: z.string().min(1).max(LIMITS.model),
  prompt: z.union([text, z.array(text).min(1).max(2_048), tokens, z.array(tokens).min(1).max(2_048)]).nullish(),
  suffix: text.nullish(),
  max_tokens: z.number().int().min(0).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  /** Not OpenAI's; vLLM, llama.cpp and Ollama take it, and editor plugins send it. */
  top_k: z.number().int().min(0).nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  best_of: z.number().int().min(0).max(128).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  logprobs: z.number().int().min(0).max(5).nullish(),
  echo: z.boolean().nullish(),
  stop: z.union([z.string().max(LIMITS.stopLength), z.array(z.string().max(LIMITS.stopLength)).max(LIMITS.stop)]).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  logit_bias: z.record(z.string(), z.number()).nullish(),
  seed: z.number().int().nullish(),
  user: z.string().max(LIMITS.user).nullish(),
});
type CompletionBody = z.infer<typeof completionBodySchema>;

/** A legacy completion request as the translated paths (Ollama /api/generate, llama.cpp /infill) take it. */
export interface CompletionRequest {
  prompt: string;
  /** Fill-in-the-middle: the text after the cursor (the completion goes between prompt and suffix). */
  suffix?: string;
  stream: boolean;
  /** The caller asked for the usage chunk (`stream_options.include_usage`). */
  includeUsage: boolean;
  max_tokens: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop?: string[];
  seed?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
}

/** The sampling options both translated endpoints take under the same names (Ollama in `options`, llama.cpp at the top). */
const SAMPLING = ['temperature', 'top_p', 'top_k', 'stop', 'seed', 'presence_penalty', 'frequency_penalty'] as const satisfies readonly (keyof CompletionRequest)[];

/** The request's sampling options that are set, by their (shared) upstream names. */
export function samplingOptions(req: CompletionRequest): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of SAMPLING) if (req[k] !== undefined) out[k] = req[k];
  return out;
}

type Neutral = (value: unknown) => boolean;

/**
 * Fields a translated completion cannot honour (one prompt in, one choice out, no log probabilities): accepted only
 * at their neutral value, else a 400 unsupported_parameter naming the field. (An OpenAI-compatible server without
 * /infill gets the caller's body as it is and decides itself.)
 */
const UNSUPPORTED = {
  n: (v) => v == null || v === 1,
  best_of: (v) => v == null || v === 1,
  echo: (v) => v == null || v === false,
  logprobs: (v) => v == null,
  logit_bias: (v) => v == null || (isRecord(v) && Object.keys(v).length === 0),
} as const satisfies Record<string, Neutral>;

const KNOWN = new Set<string>(Object.keys(completionBodySchema.shape));

/**
 * Validates an OpenAI legacy Completions body for a translated upstream. `prompt` must be one text (a string or a
 * one-element list): several prompts per request and token-id prompts cannot be sent to Ollama or /infill. An
 * absent or null prompt is the empty text, as OpenAI documents (`<|endoftext|>`, i.e. "from the start").
 */
export function parseCompletionRequest(body: unknown): CompletionRequest {
  if (!isRecord(body)) throw new TokiosError('invalid_request', 'The request body must be a JSON object.');
  for (const key of Object.keys(body)) {
    if (!KNOWN.has(key)) throw new TokiosError('unsupported_parameter', `Unknown parameter: '${key}'.`, { param: key });
  }
  const parsed = completionBodySchema.safeParse(body);
  if (!parsed.success) throw zodToError(parsed.error);
  const b = parsed.data;
  for (const [key, neutral] of Object.entries(UNSUPPORTED)) {
    if (!neutral(b[key as keyof CompletionBody])) throw new TokiosError('unsupported_parameter', `'${key}' is not supported by this deployment.`, { param: key });
  }
  const stream = b.stream === true;
  if (b.stream_options != null && !stream) {
    throw new TokiosError('invalid_request', "'stream_options' is only allowed when 'stream' is true.", { param: 'stream_options' });
  }
  const req: CompletionRequest = {
    prompt: onePrompt(b.prompt),
    stream,
    includeUsage: b.stream_options?.include_usage === true,
    max_tokens: b.max_tokens ?? DEFAULT_COMPLETION_MAX_TOKENS,
  };
  if (b.suffix != null && b.suffix.length > 0) req.suffix = b.suffix;
  if (b.temperature != null) req.temperature = b.temperature;
  if (b.top_p != null) req.top_p = b.top_p;
  if (b.top_k != null) req.top_k = b.top_k;
  if (b.stop != null) {
    const stop = typeof b.stop === 'string' ? [b.stop] : b.stop;
    if (stop.length > 0) req.stop = stop;
  }
  if (b.seed != null) req.seed = b.seed;
  if (b.presence_penalty != null) req.presence_penalty = b.presence_penalty;
  if (b.frequency_penalty != null) req.frequency_penalty = b.frequency_penalty;
  return req;
}

function onePrompt(prompt: CompletionBody['prompt']): string {
  if (prompt == null) return '';
  if (typeof prompt === 'string') return prompt;
  if (prompt.length === 0) throw new TokiosError('invalid_request', "'prompt' must not be an empty list.", { param: 'prompt' });
  if (prompt.length !== 1 || typeof prompt[0] !== 'string') {
    const tokenIds = typeof prompt[0] !== 'string';
    throw new TokiosError(
      'unsupported_parameter',
      tokenIds ? 'Token-id prompts are not supported by this deployment; send the prompt as text.' : 'This deployment takes one prompt per request.',
      { param: 'prompt' },
    );
  }
  return prompt[0];
}
