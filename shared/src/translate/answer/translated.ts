import { ERRORS, TokiosError, isErrorCode, type ErrorCode } from '../../errors/registry.js';
import { renderError } from '../../errors/render.js';
import type { CallerProtocol, Usage } from '../../protocol/meta.js';
import type { Aggregator, StreamEncoder, UpstreamDecoder } from '../adapter.js';
import type { ChatEvent } from '../pivot.js';
import { JSON_CONTENT_TYPE, SSE_CONTENT_TYPE, type AnswerTranslator } from './translator.js';

const INTERNAL: ChatEvent = { type: 'error', code: 'internal', message: ERRORS.internal.message };

function safeDecode(run: () => ChatEvent[]): ChatEvent[] {
  try {
    return run();
  } catch {
    // Decoders never throw by design; if one does, the caller still gets a well-formed error.
    return [INTERNAL];
  }
}

function registryError(err: { code: string; message: string }): { code: ErrorCode; message: string } {
  return { code: isErrorCode(err.code) ? err.code : 'upstream_error', message: err.message };
}

/** Upstream bytes -> pivot events (decoder) -> caller bytes; the usage is the pivot's last usage event. */
abstract class PivotAnswer implements AnswerTranslator {
  abstract readonly headFirst: boolean;
  abstract readonly contentType: string;
  protected last: Usage | undefined;
  protected failure: { code: ErrorCode; message: string } | undefined;
  protected closed = false;

  constructor(protected readonly decoder: UpstreamDecoder) {}

  abstract push(chunk: Buffer): string;
  abstract end(): string;
  abstract fail(err: { code: string; message: string }): string;

  /** 200, or the status of the error the answer ended with (what a whole answer's head says). */
  status(): number {
    return this.failure === undefined ? 200 : ERRORS[this.failure.code].status;
  }

  usage(): Usage | undefined {
    return this.last;
  }

  /** The error the answer ended with, if any (an upstream error event or fail()). */
  error(): { code: ErrorCode; message: string } | undefined {
    return this.failure;
  }

  /** Its code: an upstream error event inside a 200 stream is an error outcome, not ok. */
  errorCode(): ErrorCode | undefined {
    return this.failure?.code;
  }
}

/** A streamed caller: each upstream chunk becomes the caller's SSE events at once. */
export class StreamAnswer extends PivotAnswer {
  readonly headFirst = true;
  readonly contentType = SSE_CONTENT_TYPE;

  constructor(
    decoder: UpstreamDecoder,
    private readonly encoder: StreamEncoder,
  ) {
    super(decoder);
  }

  push(chunk: Uint8Array): string {
    if (this.closed) return '';
    return this.events(safeDecode(() => this.decoder.push(chunk)));
  }

  end(): string {
    if (this.closed) return '';
    const out = this.events(safeDecode(() => this.decoder.end()));
    if (this.closed) return out;
    this.closed = true;
    return out + this.encoder.end();
  }

  fail(err: { code: string; message: string }): string {
    if (this.closed) return '';
    this.closed = true;
    this.failure = registryError(err);
    return this.encoder.fail(this.failure);
  }

  private events(events: ChatEvent[]): string {
    let out = '';
    for (const e of events) {
      if (e.type === 'error') return out + this.fail(e);
      if (e.type === 'usage') this.last = { input_tokens: e.input_tokens, output_tokens: e.output_tokens };
      out += this.encoder.push(e);
    }
    return out;
  }
}

/** A whole-answer caller: events are folded, and the body (or an error body) comes out at the end. */
export class WholeAnswer extends PivotAnswer {
  readonly headFirst = false;
  readonly contentType = JSON_CONTENT_TYPE;

  constructor(
    decoder: UpstreamDecoder,
    private readonly aggregator: Aggregator,
    private readonly protocol: CallerProtocol,
  ) {
    super(decoder);
  }

  push(chunk: Uint8Array): string {
    if (!this.closed) this.events(safeDecode(() => this.decoder.push(chunk)));
    return '';
  }

  end(): string {
    if (this.closed) return '';
    this.events(safeDecode(() => this.decoder.end()));
    this.closed = true;
    if (this.failure !== undefined) return this.errorBody(this.failure);
    try {
      return JSON.stringify(this.aggregator.result());
    } catch (err) {
      // Aggregators throw the answer's failure (e.g. tool arguments for no tool call) as a TokiosError.
      this.failure = err instanceof TokiosError ? registryError(err) : registryError({ code: 'internal', message: ERRORS.internal.message });
      return this.errorBody(this.failure);
    }
  }

  fail(err: { code: string; message: string }): string {
    if (this.closed) return '';
    this.closed = true;
    this.failure = registryError(err);
    return this.errorBody(this.failure);
  }

  private errorBody(err: { code: ErrorCode; message: string }): string {
    return JSON.stringify(renderError(this.protocol, new TokiosError(err.code, err.message)));
  }

  private events(events: ChatEvent[]): void {
    for (const e of events) {
      if (this.failure !== undefined) return;
      if (e.type === 'error') {
        this.failure = registryError(e);
        return;
      }
      if (e.type === 'usage') this.last = { input_tokens: e.input_tokens, output_tokens: e.output_tokens };
      this.aggregator.push(e);
    }
  }
}
