import { TokiosError } from '../../errors/registry.js';
import { openaiErrorBody } from '../../errors/render.js';
import type { Usage } from '../../protocol/meta.js';
import type { UpstreamHttpRequest } from '../adapter.js';
import { EMPTY, JSON_CONTENT_TYPE, type AnswerTranslator } from '../answer/translator.js';
import { MAX_WHOLE_ANSWER } from '../passthrough/whole.js';
import { count, isRecord, parseJson } from '../util.js';
import type { EmbeddingEncoding, EmbeddingsRequest } from './request.js';

export const OLLAMA_EMBED_PATH = '/api/embed';

/** EmbeddingsRequest -> body of Ollama's POST /api/embed (`input` always a list; `dimensions` when asked). */
export function buildEmbedRequest(req: EmbeddingsRequest, options: { model: string }): UpstreamHttpRequest {
  const body: Record<string, unknown> = { model: options.model, input: req.input };
  if (req.dimensions !== undefined) body['dimensions'] = req.dimensions;
  return { path: OLLAMA_EMBED_PATH, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
}

/** One vector as OpenAI's `embedding`: the numbers, or base64 of their little-endian float32 bytes. */
export function encodeVector(vector: number[], encoding: EmbeddingEncoding): number[] | string {
  if (encoding === 'float') return vector;
  const bytes = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i]!, i * 4);
  return bytes.toString('base64');
}

function isVector(v: unknown): v is number[] {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

/**
 * Ollama's /api/embed answer (`{model, embeddings: [[…], …], prompt_eval_count}`) -> OpenAI's
 * `{object: "list", data: [{object: "embedding", index, embedding}], model, usage: {prompt_tokens, total_tokens}}`,
 * `model` the deployment name. Held until complete (at most MAX_WHOLE_ANSWER); one vector per input or the answer
 * is an upstream_error, never a short list.
 */
export class OllamaEmbeddingsAnswer implements AnswerTranslator {
  readonly headFirst = false;
  readonly contentType = JSON_CONTENT_TYPE;
  private parts: Buffer[] = [];
  private size = 0;
  private failure: TokiosError | undefined;
  private answerUsage: Usage | undefined;

  constructor(
    private readonly req: EmbeddingsRequest,
    private readonly deploymentName: string,
  ) {}

  status(): number {
    return this.failure?.status ?? 200;
  }

  usage(): Usage | undefined {
    return this.answerUsage;
  }

  push(chunk: Buffer): Buffer {
    if (this.failure !== undefined) return EMPTY;
    this.size += chunk.length;
    if (this.size > MAX_WHOLE_ANSWER) {
      this.parts = [];
      this.failure = new TokiosError('upstream_error', `The model server's answer is larger than ${MAX_WHOLE_ANSWER >> 20} MiB; send fewer inputs.`);
      return EMPTY;
    }
    this.parts.push(Buffer.from(chunk));
    return EMPTY;
  }

  end(): string {
    if (this.failure === undefined) {
      const body = Buffer.concat(this.parts, this.size).toString('utf8');
      this.parts = [];
      const out = this.translate(body);
      if (out !== undefined) return out;
    }
    return this.fail(this.failure ?? new TokiosError('upstream_error'));
  }

  fail(err: { code: string; message: string }): string {
    this.failure = err instanceof TokiosError ? err : new TokiosError('upstream_error', err.message);
    return JSON.stringify(openaiErrorBody(this.failure.code, this.failure.message));
  }

  private translate(body: string): string | undefined {
    const parsed = parseJson(body);
    const value = parsed.ok && isRecord(parsed.value) ? parsed.value : undefined;
    const vectors = value?.['embeddings'];
    if (value === undefined || !Array.isArray(vectors) || vectors.length !== this.req.input.length || !vectors.every(isVector)) {
      this.failure = new TokiosError('upstream_error', 'The model server sent a malformed embeddings answer.');
      return undefined;
    }
    const tokens = count(value['prompt_eval_count']) ?? 0;
    this.answerUsage = { input_tokens: tokens, output_tokens: 0 };
    return JSON.stringify({
      object: 'list',
      data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: encodeVector(v, this.req.encoding) })),
      model: this.deploymentName,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }
}
