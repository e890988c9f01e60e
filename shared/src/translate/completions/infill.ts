import { SseDecoder, type SseEvent } from '../../codec/index.js';
import type { DecoderOptions, UpstreamHttpRequest } from '../adapter.js';
import type { FinishReason } from '../pivot.js';
import { MSG_CUT, MSG_EMPTY, StreamDecoderBase } from '../upstream/decoder-base.js';
import { errorMessage, midStreamMessage } from '../upstream/http-error.js';
import { count, isRecord, parseJson, str, type JsonRecord } from '../util.js';
import { samplingOptions, type CompletionRequest } from './request.js';

/** llama.cpp server's native fill-in-the-middle endpoint. */
export const LLAMA_INFILL_PATH = '/infill';

/**
 * CompletionRequest (with a suffix) -> body of llama.cpp's POST /infill (always streamed, SSE): the caller's prompt is
 * the text before the cursor (`input_prefix`), its suffix the text after it (`input_suffix`); the server puts them
 * around the model's FIM tokens itself. max_tokens -> n_predict; stop, temperature, top_p, top_k, seed and the
 * penalties keep their names (/infill takes every /completion option).
 */
export function buildInfillRequest(req: CompletionRequest): UpstreamHttpRequest {
  const body = { input_prefix: req.prompt, input_suffix: req.suffix ?? '', prompt: '', n_predict: req.max_tokens, stream: true, ...samplingOptions(req) };
  return { path: LLAMA_INFILL_PATH, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
}

/** llama.cpp's `stop_type` (newer servers) -> pivot; `limit` is the token budget. */
const STOP_TYPES = { eos: 'stop', word: 'stop', limit: 'length', none: 'stop' } as const satisfies Record<string, FinishReason>;

function finishOf(last: JsonRecord): FinishReason {
  const type = last['stop_type'];
  if (typeof type === 'string' && Object.hasOwn(STOP_TYPES, type)) return STOP_TYPES[type as keyof typeof STOP_TYPES];
  // Older servers: one boolean per cause.
  return last['stopped_limit'] === true ? 'length' : 'stop';
}

const MSG_MALFORMED = 'The model server sent a malformed stream event.';
const MSG_TOO_LARGE = 'The model server sent an oversized stream event.';

/**
 * llama.cpp /infill SSE (`data: {"content":"…","stop":false}` per token, then one with `stop: true` carrying
 * stop_type, tokens_evaluated and tokens_predicted) -> ChatEvent. `{"error":{…}}` events, malformed events and a
 * body that ends before the `stop: true` event -> one error event.
 */
export class InfillDecoder extends StreamDecoderBase {
  private readonly sse = new SseDecoder();
  private readonly onEvent = (event: SseEvent): void => this.event(event);

  constructor(options: DecoderOptions = {}) {
    super(options, { tooLarge: MSG_TOO_LARGE, malformed: MSG_MALFORMED });
  }

  protected feed(chunk: Uint8Array | string): void {
    this.sse.push(chunk, this.onEvent);
  }

  protected flush(): void {
    this.sse.end(this.onEvent);
  }

  protected ended(): void {
    this.fail(this.started ? MSG_CUT : MSG_EMPTY);
  }

  private event(event: SseEvent): void {
    if (this.state !== 'open' || event.data.length === 0 || event.data === '[DONE]') return;
    const parsed = parseJson(event.data);
    if (!parsed.ok || !isRecord(parsed.value)) return this.fail(MSG_MALFORMED);
    const value = parsed.value;
    const error = value['error'];
    if (error !== undefined && error !== null) return this.fail(midStreamMessage(errorMessage(error)));
    if (!this.started) {
      this.started = true;
      this.out.push({ type: 'start', id: this.newId('cmpl'), model: str(value['model']) ?? '', created: Math.floor(this.now() / 1000) });
    }
    const text = str(value['content']);
    if (text !== undefined) this.out.push({ type: 'text', text });
    if (value['stop'] === true) {
      this.out.push({ type: 'finish', reason: finishOf(value) });
      const timings = isRecord(value['timings']) ? value['timings'] : {};
      const input = count(value['tokens_evaluated']) ?? count(timings['prompt_n']) ?? 0;
      const output = count(value['tokens_predicted']) ?? count(timings['predicted_n']) ?? 0;
      this.out.push({ type: 'usage', input_tokens: input, output_tokens: output });
      this.state = 'done';
    }
  }
}
