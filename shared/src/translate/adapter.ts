import type { CallerProtocol, UpstreamKind } from '../protocol/meta.js';
import type { ErrorCode } from '../errors/registry.js';
import type { ResponsesEcho } from './caller/responses/echo.js';
import type { ChatEvent, ChatRequest, NamespacedName } from './pivot.js';
import type { Ignored } from './caller/ignored.js';

/** Context for producing caller-facing output. */
export interface CallerContext {
  /** The deployment name the caller sent as `model`; echoed back in responses. */
  model: string;
  /** Stable id for this request (used to derive message/response ids when the upstream gives none). */
  requestId: string;
  /** OpenAI Chat only: the caller sent `stream_options.include_usage: true` (a last chunk with `choices: []`). */
  includeUsage?: boolean;
  /** The request's stop sequences: a stop string the model server reports is shown to the caller only if it is one. */
  stopSequences?: readonly string[];
  /** Responses only: the request values its response objects repeat. */
  echo?: ResponsesEcho;
  /** Responses only: flattened tool names of namespace tools -> the caller's namespace and name. */
  toolNames?: ReadonlyMap<string, NamespacedName>;
}

/** Turns normalized events into the caller's stream bytes (SSE). Pure; no I/O. */
export interface StreamEncoder {
  push(event: ChatEvent): string;
  /** The upstream ended normally; returns the closing bytes (e.g. `data: [DONE]`, `message_stop`). */
  end(): string;
  /** The stream must end with an error; returns that protocol's error event. */
  fail(error: { code: ErrorCode | string; message: string }): string;
}

/** Collects normalized events into the caller's non-streamed JSON body. */
export interface Aggregator {
  push(event: ChatEvent): void;
  result(): unknown;
}

/** One caller protocol (one folder under translate/caller/). */
export interface CallerAdapter {
  readonly protocol: CallerProtocol;
  /**
   * Validates and converts the caller's JSON body; what was accepted without effect goes into `ignored`.
   * Throws TokiosError('invalid_request' | 'unsupported_parameter').
   */
  parseRequest(body: unknown, ignored?: Ignored): ChatRequest;
  /** A caller whose answers repeat request values (Responses): read them from the body parseRequest accepted. */
  requestEcho?(body: unknown): ResponsesEcho;
  createStreamEncoder(ctx: CallerContext): StreamEncoder;
  createAggregator(ctx: CallerContext): Aggregator;
}

export interface UpstreamHttpRequest {
  path: string;
  body: string;
  headers: Readonly<Record<string, string>>;
}

/** Injected sources of ids and time, so decoders stay deterministic under test. */
export interface DecoderOptions {
  /** New id with the given prefix (e.g. `call`, `chatcmpl`). Default: prefix + '_' + 24 random hex digits. */
  newId?: (prefix: string) => string;
  /** Current time in ms since the epoch. Default Date.now. */
  now?: () => number;
}

/** Turns upstream response bytes into normalized events. Handles split/merged input. */
export interface UpstreamDecoder {
  push(chunk: Uint8Array | string): ChatEvent[];
  /** The upstream body ended; flushes anything pending (e.g. a final usage or finish). */
  end(): ChatEvent[];
}

/** One upstream kind (one folder under translate/upstream/). Requests are always made streaming. */
export interface UpstreamAdapter {
  readonly kind: UpstreamKind;
  buildRequest(req: ChatRequest, options: { model: string }): UpstreamHttpRequest;
  createDecoder(options?: DecoderOptions): UpstreamDecoder;
  /** Maps a non-2xx upstream answer to a registry error code and a message safe to show. */
  parseError(status: number, bodyText: string): { code: ErrorCode; message: string };
}
