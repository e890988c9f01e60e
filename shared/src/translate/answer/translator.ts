import type { Usage } from '../../protocol/meta.js';

/**
 * Turns the model server's answer into the caller's bytes, for one response; the connector pipes bytes through it
 * and does nothing else with them. Strings are text the connector encodes once per frame; Buffers go as they are.
 */
export interface AnswerTranslator {
  /** Send the head before the body (streams, passthrough) or only after end() (answers whose status depends on the body). */
  readonly headFirst: boolean;
  /** The caller's HTTP status; for headFirst false, read it after end(). */
  status(): number;
  readonly contentType: string;
  /** Upstream body bytes -> caller bytes (may be empty). */
  push(chunk: Buffer): Buffer | string;
  /** The upstream body ended: the closing bytes (a whole answer's entire body when it is held until the end). */
  end(): Buffer | string;
  /** The answer must end with an error (upstream lost, cancelled, timeout): that error in the caller's format, once. */
  fail(err: { code: string; message: string }): Buffer | string;
  /** The last usage the model server reported (cumulative, never summed). */
  usage(): Usage | undefined;
  /** After end(): the error registry code this answer carries, when it is an error (outcome for logs and usage). */
  errorCode?(): string | undefined;
}

/** How one request goes to the model server, and how its answer comes back. */
export interface UpstreamPlan {
  path: string;
  /** A Buffer when the caller's bytes go up as they are. */
  body: string | Buffer;
  headers: Readonly<Record<string, string>>;
  /** Request fields accepted without effect and tools dropped (names only), for the caller's `tokios-ignored` header. */
  ignored?: readonly string[];
  /** Called once, with the model server's status and content type, when its answer starts. */
  translate(status: number, contentType: string): AnswerTranslator;
}

export const SSE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';
export const JSON_CONTENT_TYPE = 'application/json';
export const EMPTY: Buffer = Buffer.alloc(0);
