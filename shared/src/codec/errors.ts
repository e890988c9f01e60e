/** Why a line codec gave up on its input. */
export const CodecErrorCode = {
  /** An SSE event (pending line + accumulated data) grew past the limit. */
  EventTooLarge: 'event_too_large',
  /** An NDJSON line grew past the limit before its newline arrived. */
  LineTooLong: 'line_too_long',
  /** An NDJSON line is not valid JSON. */
  InvalidJson: 'invalid_json',
} as const;
export type CodecErrorCode = (typeof CodecErrorCode)[keyof typeof CodecErrorCode];

/**
 * A malformed or oversized stream. After a CodecError the decoder's state is undefined: discard it.
 * The message never quotes the offending input (it may hold prompt or completion text).
 */
export class CodecError extends Error {
  override readonly name = 'CodecError';
  readonly code: CodecErrorCode;
  constructor(code: CodecErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
