import { NdjsonDecoder } from '../../codec/index.js';
import type { DecoderOptions, UpstreamHttpRequest } from '../adapter.js';
import type { FinishReason } from '../pivot.js';
import { MSG_CUT, MSG_EMPTY, StreamDecoderBase } from '../upstream/decoder-base.js';
import { errorMessage, midStreamMessage } from '../upstream/http-error.js';
import { count, isRecord, str, type JsonRecord } from '../util.js';
import { samplingOptions, type CompletionRequest } from './request.js';

export const OLLAMA_GENERATE_PATH = '/api/generate';

/**
 * CompletionRequest -> body of Ollama's POST /api/generate (always streamed, NDJSON).
 *
 *  - Without `suffix`: `raw: true`, so the prompt reaches the model as it is (a legacy completion continues text; the
 *    model's chat template must not wrap it).
 *  - With `suffix`: Ollama's fill-in-the-middle, `suffix` sent and templating left on (the model's template places
 *    prompt and suffix around its FIM tokens; a model whose template has none answers "does not support insert").
 *  - max_tokens -> options.num_predict; stop, temperature, top_p, top_k, seed and the penalties -> options.
 */
export function buildGenerateRequest(req: CompletionRequest, options: { model: string }): UpstreamHttpRequest {
  const body: Record<string, unknown> = { model: options.model, prompt: req.prompt, stream: true };
  if (req.suffix !== undefined) body['suffix'] = req.suffix;
  else body['raw'] = true;
  body['options'] = { num_predict: req.max_tokens, ...samplingOptions(req) };
  return { path: OLLAMA_GENERATE_PATH, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
}

const MSG_MALFORMED = 'The model server sent a malformed stream line.';
const MSG_TOO_LARGE = 'The model server sent an oversized stream line.';

/**
 * Ollama /api/generate NDJSON -> ChatEvent: `response` pieces -> text (a thinking model's `thinking` has no place
 * in a completion and is dropped); `done: true` -> finish (`length` from done_reason, else `stop`) and usage from
 * prompt_eval_count / eval_count; `{"error":"…"}` lines, malformed lines and a body that ends before `done` -> one
 * error event.
 */
export class OllamaGenerateDecoder extends StreamDecoderBase {
  private readonly ndjson = new NdjsonDecoder();
  private readonly onValue = (value: unknown): void => this.line(value);

  constructor(options: DecoderOptions = {}) {
    super(options, { tooLarge: MSG_TOO_LARGE, malformed: MSG_MALFORMED });
  }

  protected feed(chunk: Uint8Array | string): void {
    this.ndjson.push(chunk, this.onValue);
  }

  protected flush(): void {
    this.ndjson.end(this.onValue);
  }

  protected ended(): void {
    this.fail(this.started ? MSG_CUT : MSG_EMPTY);
  }

  private line(value: unknown): void {
    if (this.state !== 'open') return;
    if (!isRecord(value)) return this.fail(MSG_MALFORMED);
    const error = value['error'];
    if (error !== undefined && error !== null) return this.fail(midStreamMessage(errorMessage(error)));
    if (!this.started) {
      this.started = true;
      const created = typeof value['created_at'] === 'string' ? Date.parse(value['created_at']) : NaN;
      this.out.push({ type: 'start', id: this.newId('cmpl'), model: str(value['model']) ?? '', created: Math.floor((Number.isFinite(created) ? created : this.now()) / 1000) });
    }
    const text = str(value['response']);
    if (text !== undefined) this.out.push({ type: 'text', text });
    if (value['done'] === true) this.done(value);
  }

  private done(last: JsonRecord): void {
    const reason: FinishReason = last['done_reason'] === 'length' ? 'length' : 'stop';
    this.out.push({ type: 'finish', reason });
    // Ollama omits prompt_eval_count when the whole prompt came from its cache: 0 then, not missing.
    this.out.push({ type: 'usage', input_tokens: count(last['prompt_eval_count']) ?? 0, output_tokens: count(last['eval_count']) ?? 0 });
    this.state = 'done';
  }
}
