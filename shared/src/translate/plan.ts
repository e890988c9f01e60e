import { ERRORS, TokiosError, isErrorCode, type ErrorCode } from '../errors/registry.js';
import { renderError } from '../errors/render.js';
import type { CallerProtocol, UpstreamKind, Usage } from '../protocol/meta.js';
import type { Aggregator, CallerAdapter, CallerContext, DecoderOptions, StreamEncoder, UpstreamDecoder, UpstreamHttpRequest } from './adapter.js';
import type { ChatEvent } from './pivot.js';
import { OPENAI_CHAT_PATH } from './upstream/openai/request.js';
import { UPSTREAMS } from './upstream/index.js';
import { isRecord } from './util.js';

/** Turns the upstream's response body into the caller's bytes. One per request; not reusable. */
export interface ResponseTranslator {
  /** Upstream body bytes -> caller bytes (always '' for non-stream callers). */
  push(chunk: Uint8Array): string;
  /** The upstream body ended. Stream: closing bytes. Non-stream: the whole JSON body (an error body if it failed). */
  end(): string;
  /** The request must end with an error (upstream lost, cancelled, timeout): that error in the caller's format. */
  fail(err: { code: ErrorCode | string; message: string }): string;
  /** The last usage reported (cumulative, never summed). */
  usage(): Usage | undefined;
  /**
   * The error the answer ended with, if any (an upstream error event or fail()). A non-stream caller's HTTP status
   * is ERRORS[code].status then; read it after end() and before sending the head.
   */
  error(): { code: ErrorCode; message: string } | undefined;
}

export interface TranslationPlan {
  passthrough: false;
  upstream: UpstreamHttpRequest;
  /** The caller wants SSE. */
  stream: boolean;
  contentType: string;
  translator: ResponseTranslator;
}

/** OpenAI Chat caller + OpenAI-compatible upstream: bytes flow untranslated; only `model` was rewritten. */
export interface PassthroughPlan {
  passthrough: true;
  upstream: UpstreamHttpRequest;
  /** The caller asked for a stream (`stream: true`). */
  stream: boolean;
}

export interface PlanArgs {
  protocol: CallerProtocol;
  body: unknown;
  upstreamKind: UpstreamKind;
  upstreamModel: string;
  requestId: string;
  deploymentName: string;
  callers: Record<CallerProtocol, CallerAdapter>;
  /** Tests only: deterministic ids and time for the upstream decoder. */
  decoderOptions?: DecoderOptions;
}

export const SSE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';
export const JSON_CONTENT_TYPE = 'application/json';

/**
 * The one entry the connector calls per request. Throws TokiosError (invalid_request / unsupported_parameter /
 * invalid_json-free: the body is already parsed) before anything is sent upstream.
 */
export function planTranslation(args: PlanArgs): TranslationPlan | PassthroughPlan {
  if (args.protocol === 'openai.chat' && args.upstreamKind === 'openai') return passthrough(args.body, args.upstreamModel);
  const caller = args.callers[args.protocol];
  const req = caller.parseRequest(args.body);
  const adapter = UPSTREAMS[args.upstreamKind];
  const upstream = adapter.buildRequest(req, { model: args.upstreamModel });
  const ctx: CallerContext = { model: args.deploymentName, requestId: args.requestId };
  if (req.stream_options?.include_usage === true) ctx.includeUsage = true;
  const decoder = adapter.createDecoder(args.decoderOptions);
  const translator = req.stream
    ? new StreamTranslator(decoder, caller.createStreamEncoder(ctx))
    : new AggregateTranslator(decoder, caller.createAggregator(ctx), args.protocol);
  return { passthrough: false, upstream, stream: req.stream, contentType: req.stream ? SSE_CONTENT_TYPE : JSON_CONTENT_TYPE, translator };
}

function passthrough(body: unknown, model: string): PassthroughPlan {
  if (!isRecord(body)) throw new TokiosError('invalid_request', 'The request body must be a JSON object.');
  return {
    passthrough: true,
    stream: body['stream'] === true,
    upstream: {
      path: OPENAI_CHAT_PATH,
      body: JSON.stringify({ ...body, model }),
      headers: { 'content-type': 'application/json' },
    },
  };
}

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

abstract class BaseTranslator {
  protected last: Usage | undefined;
  protected failure: { code: ErrorCode; message: string } | undefined;
  protected closed = false;

  constructor(protected readonly decoder: UpstreamDecoder) {}

  usage(): Usage | undefined {
    return this.last;
  }

  error(): { code: ErrorCode; message: string } | undefined {
    return this.failure;
  }
}

class StreamTranslator extends BaseTranslator implements ResponseTranslator {
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

  fail(err: { code: ErrorCode | string; message: string }): string {
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

class AggregateTranslator extends BaseTranslator implements ResponseTranslator {
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
    return JSON.stringify(this.aggregator.result());
  }

  fail(err: { code: ErrorCode | string; message: string }): string {
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
