import { z } from 'zod';
import { TokiosError } from '../../errors/registry.js';
import { isRecord } from '../util.js';
import { zodToError } from '../zod-error.js';

/** OpenAI's own bound on inputs per request. */
export const MAX_EMBEDDING_INPUTS = 2_048;

const text = z.string().max(8 * 1024 * 1024);
const tokens = z.array(z.number().int().min(0)).max(1_000_000);

/** OpenAI `POST /v1/embeddings` as documented. */
const embeddingsBodySchema = z.object({
  model: z.string().min(1).max(256),
  input: z.union([text, z.array(text).min(1).max(MAX_EMBEDDING_INPUTS), tokens, z.array(tokens).min(1).max(MAX_EMBEDDING_INPUTS)]),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  dimensions: z.number().int().min(1).max(65_536).nullish(),
  user: z.string().max(1_024).nullish(),
});

export type EmbeddingEncoding = 'float' | 'base64';

/** An embeddings request as a translated upstream (Ollama /api/embed) takes it. */
export interface EmbeddingsRequest {
  /** One entry per input, in order (a single string is a list of one). */
  input: string[];
  /** How vectors go back: JSON numbers, or base64 of little-endian float32 (the OpenAI SDKs ask for this by default). */
  encoding: EmbeddingEncoding;
  dimensions?: number;
}

const KNOWN = new Set<string>(Object.keys(embeddingsBodySchema.shape));

/**
 * Validates an OpenAI embeddings body for a translated upstream: unknown fields are refused by name; token-id inputs
 * cannot be sent to Ollama (it takes text only) and are refused naming `input`; `user` has no effect there.
 */
export function parseEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  if (!isRecord(body)) throw new TokiosError('invalid_request', 'The request body must be a JSON object.');
  for (const key of Object.keys(body)) {
    if (!KNOWN.has(key)) throw new TokiosError('unsupported_parameter', `Unknown parameter: '${key}'.`, { param: key });
  }
  const parsed = embeddingsBodySchema.safeParse(body);
  if (!parsed.success) throw zodToError(parsed.error);
  const b = parsed.data;
  const input = typeof b.input === 'string' ? [b.input] : b.input;
  if (input.length === 0) throw new TokiosError('invalid_request', "'input' must not be empty.", { param: 'input' });
  if (!input.every((i): i is string => typeof i === 'string')) {
    throw new TokiosError('unsupported_parameter', 'Token-id inputs are not supported by this deployment; send text.', { param: 'input' });
  }
  const req: EmbeddingsRequest = { input, encoding: b.encoding_format ?? 'float' };
  if (b.dimensions != null) req.dimensions = b.dimensions;
  return req;
}
