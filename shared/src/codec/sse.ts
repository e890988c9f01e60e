import { CodecError, CodecErrorCode } from './errors.js';

/** One dispatched Server-Sent Event. `event` defaults to "message" as in the HTML spec. */
export interface SseEvent {
  event: string;
  data: string;
  /** The last `id:` seen, if any. */
  id?: string;
}

export interface SseDecoderOptions {
  /** Max characters of one pending event (unterminated line + data gathered so far). Default 4 MiB. */
  maxEventSize?: number;
}

const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;
const DEFAULT_MAX_EVENT = 4 * 1024 * 1024;

/**
 * Incremental SSE decoder (WHATWG "event stream interpretation").
 *
 * Lines end in `\n`, `\r\n` or `\r` (a `\r` at the end of one chunk and `\n` at the start of the next count as one
 * terminator). `:` lines are comments. Multi-line `data:` is joined with `\n`. UTF-8 sequences split across chunks
 * are reassembled. Events are delivered through `sink` as soon as their blank line arrives; when an error is thrown,
 * everything before it has already been delivered.
 */
export class SseDecoder {
  private readonly max: number;
  private readonly utf8 = new TextDecoder('utf-8');
  /** Unterminated tail of the input. */
  private pending = '';
  /** A chunk ended in `\r`: drop a `\n` that starts the next one. */
  private skipLf = false;
  private data = '';
  private hasData = false;
  private eventType = '';
  private lastId: string | undefined;

  constructor(options: SseDecoderOptions = {}) {
    this.max = options.maxEventSize ?? DEFAULT_MAX_EVENT;
  }

  push(chunk: Uint8Array | string, sink: (event: SseEvent) => void): void {
    const text = typeof chunk === 'string' ? chunk : this.utf8.decode(chunk, { stream: true });
    if (text.length > 0) this.feed(text, sink);
  }

  /**
   * The input ended. A trailing unterminated line is processed and a pending event is dispatched (the spec would
   * discard it, but model servers sometimes omit the final blank line before closing).
   */
  end(sink: (event: SseEvent) => void): void {
    const rest = this.utf8.decode();
    if (rest.length > 0) this.feed(rest, sink);
    if (this.pending.length > 0) {
      const line = this.pending;
      this.pending = '';
      this.line(line, sink);
    }
    this.line('', sink);
  }

  private feed(text: string, sink: (event: SseEvent) => void): void {
    const n = text.length;
    let start = 0;
    if (this.skipLf) {
      this.skipLf = false;
      if (text.charCodeAt(0) === LF) start = 1;
    }
    // Both terminators are searched with indexOf and cached until passed: no per-character loop, no regex.
    let cr = text.indexOf('\r', start);
    let lf = text.indexOf('\n', start);
    while (start < n) {
      if (cr !== -1 && cr < start) cr = text.indexOf('\r', start);
      if (lf !== -1 && lf < start) lf = text.indexOf('\n', start);
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        if (cr + 1 < n) {
          next = text.charCodeAt(cr + 1) === LF ? cr + 2 : cr + 1;
        } else {
          next = n;
          this.skipLf = true;
        }
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else {
        break;
      }
      const part = text.slice(start, end);
      const line = this.pending.length > 0 ? this.pending + part : part;
      this.pending = '';
      this.line(line, sink);
      start = next;
    }
    if (start < n) {
      this.pending = this.pending.length > 0 ? this.pending + text.slice(start) : text.slice(start);
      this.checkSize(this.pending.length);
    }
  }

  private checkSize(extra: number): void {
    if (this.data.length + extra > this.max) {
      throw new CodecError(CodecErrorCode.EventTooLarge, `SSE event exceeds ${this.max} characters`);
    }
  }

  private line(line: string, sink: (event: SseEvent) => void): void {
    if (line.length === 0) {
      if (this.hasData) {
        const event: SseEvent = { event: this.eventType || 'message', data: this.data };
        if (this.lastId !== undefined) event.id = this.lastId;
        sink(event);
      }
      this.data = '';
      this.hasData = false;
      this.eventType = '';
      return;
    }
    if (line.charCodeAt(0) === COLON) return;
    const colon = line.indexOf(':');
    let field: string;
    let value: string;
    if (colon === -1) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      value = line.slice(line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1);
    }
    switch (field) {
      case 'data':
        this.checkSize(value.length + 1);
        this.data = this.hasData ? this.data + '\n' + value : value;
        this.hasData = true;
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      default:
        // `retry` and unknown fields are ignored, as the spec says.
        break;
    }
  }
}

/** Decodes a whole SSE text at once (tests, small bodies). */
export function decodeSse(input: Uint8Array | string, options?: SseDecoderOptions): SseEvent[] {
  const out: SseEvent[] = [];
  const decoder = new SseDecoder(options);
  const sink = (e: SseEvent): void => {
    out.push(e);
  };
  decoder.push(input, sink);
  decoder.end(sink);
  return out;
}

/**
 * Formats one SSE event. Every line of `data` gets its own `data:` field, so any text round-trips; `event` must
 * not contain a line break.
 */
export function formatSse(data: string, event?: string): string {
  const head = event === undefined ? '' : `event: ${event}\n`;
  if (data.indexOf('\n') === -1 && data.indexOf('\r') === -1) return `${head}data: ${data}\n\n`;
  const lines = data.split(/\r\n|\r|\n/);
  let body = head;
  for (const l of lines) body += `data: ${l}\n`;
  return body + '\n';
}
