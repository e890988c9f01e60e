import { CodecError, CodecErrorCode } from './errors.js';

export interface NdjsonDecoderOptions {
  /** Max characters of one line. Default 4 MiB. */
  maxLineLength?: number;
  /**
   * Sees every non-blank line (within the length limit) before JSON.parse. Returning true means the caller
   * recognised and handled the line itself (a hot, fixed-shape line it can read without a full parse): the line
   * is then neither parsed nor delivered. It must only return true for lines that are valid JSON.
   */
  shortcut?: (line: string) => boolean;
}

const DEFAULT_MAX_LINE = 4 * 1024 * 1024;

/**
 * Incremental NDJSON decoder: one JSON value per `\n`-terminated line (a trailing `\r` is tolerated), blank lines
 * skipped, UTF-8 split across chunks reassembled. Values are delivered through `sink`; a bad or oversized line
 * throws a CodecError after every earlier value has been delivered. JSON.parse never escapes unguarded.
 */
export class NdjsonDecoder {
  private readonly max: number;
  private readonly shortcut: ((line: string) => boolean) | undefined;
  private readonly utf8 = new TextDecoder('utf-8');
  /**
   * The TextDecoder holds no partial UTF-8 sequence and is past the start of the stream (where it would drop a
   * BOM): true after it decoded some text from input ending in an ASCII byte. Then a chunk that also ends in an
   * ASCII byte (any line, since lines end in `\n`) decodes to the same text on its own, with Buffer's faster
   * UTF-8 decoder (same replacement of invalid bytes by U+FFFD, as the codec tests check).
   */
  private utf8Clean = false;
  private pending = '';

  constructor(options: NdjsonDecoderOptions = {}) {
    this.max = options.maxLineLength ?? DEFAULT_MAX_LINE;
    this.shortcut = options.shortcut;
  }

  push(chunk: Uint8Array | string, sink: (value: unknown) => void): void {
    const text = typeof chunk === 'string' ? chunk : this.decode(chunk);
    if (text.length > 0) this.feed(text, sink);
  }

  private decode(chunk: Uint8Array): string {
    if (chunk.length === 0) return '';
    const ascii = chunk[chunk.length - 1]! < 0x80;
    if (this.utf8Clean && ascii) {
      return (Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)).toString('utf8');
    }
    const text = this.utf8.decode(chunk, { stream: true });
    this.utf8Clean = ascii && text.length > 0;
    return text;
  }

  /** The input ended: a last line without a newline is still decoded. */
  end(sink: (value: unknown) => void): void {
    const rest = this.utf8.decode();
    if (rest.length > 0) this.feed(rest, sink);
    if (this.pending.length > 0) {
      const line = this.pending;
      this.pending = '';
      this.line(line, sink);
    }
  }

  private feed(text: string, sink: (value: unknown) => void): void {
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl !== -1) {
      const part = text.slice(start, nl);
      const line = this.pending.length > 0 ? this.pending + part : part;
      this.pending = '';
      this.line(line, sink);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (start < text.length) {
      this.pending = this.pending.length > 0 ? this.pending + text.slice(start) : text.slice(start);
      if (this.pending.length > this.max) {
        throw new CodecError(CodecErrorCode.LineTooLong, `NDJSON line exceeds ${this.max} characters`);
      }
    }
  }

  private line(line: string, sink: (value: unknown) => void): void {
    if (line.length > this.max) {
      throw new CodecError(CodecErrorCode.LineTooLong, `NDJSON line exceeds ${this.max} characters`);
    }
    if (isBlank(line)) return;
    if (this.shortcut?.(line) === true) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (cause) {
      throw new CodecError(CodecErrorCode.InvalidJson, 'NDJSON line is not valid JSON', { cause });
    }
    sink(value);
  }
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    // space, \t, \r
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** Decodes a whole NDJSON text at once (tests, small bodies). */
export function decodeNdjson(input: Uint8Array | string, options?: NdjsonDecoderOptions): unknown[] {
  const out: unknown[] = [];
  const decoder = new NdjsonDecoder(options);
  const sink = (v: unknown): void => {
    out.push(v);
  };
  decoder.push(input, sink);
  decoder.end(sink);
  return out;
}
