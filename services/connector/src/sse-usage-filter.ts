import type { Usage } from '@tokios/shared/protocol';
import { fromOpenAIUsage, parseObject } from './openai-usage.js';

const NL = 0x0a;
/** `"usage":null` after another member; the leading comma makes it a key, never string content. */
const NULL_USAGE_AFTER = /,\s*"usage"\s*:\s*null(?=\s*[,}])/;
/** `"usage":null` as the first member. */
const NULL_USAGE_FIRST = /\{(\s*)"usage"\s*:\s*null\s*,\s*/;
const EMPTY = Buffer.alloc(0);
/** The compact form servers send on every chunk once usage was asked for (vLLM, llama.cpp, SGLang). */
const COMPACT_NULL_USAGE = Buffer.from(',"usage":null');
const USAGE_KEY = Buffer.from('"usage"');
const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;
/** An unfinished line longer than this is not an SSE event we can read: it is let through as it is. */
const MAX_LINE = 1024 * 1024;

/**
 * Watches an OpenAI chat SSE stream for `usage` (the last chunk that has one wins).
 *
 * With `strip` (we asked the upstream for usage the caller did not want) it also gives the caller the stream
 * it asked for: the usage-only chunk (`"choices":[]`) is dropped with its blank line, and `"usage":null`
 * members are removed from the other chunks. Complete lines go out at once; only an unfinished line is held
 * back until its end arrives (the caller could not parse it anyway). Without `strip` the bytes pass untouched.
 * Lines are cut on the newline byte, so a UTF-8 character split between reads is never broken.
 */
export class SseUsageFilter {
  usage: Usage | undefined;
  private tail: Buffer = EMPTY;
  private dropBlank = false;

  constructor(private readonly strip: boolean) {}

  push(chunk: Buffer): Buffer | string {
    const nl = chunk.lastIndexOf(NL);
    if (nl < 0) {
      this.tail = this.tail.length ? Buffer.concat([this.tail, chunk]) : Buffer.from(chunk);
      if (this.tail.length > MAX_LINE) {
        const held = this.tail;
        this.tail = EMPTY;
        return this.strip ? held : chunk;
      }
      return this.strip ? '' : chunk;
    }
    const complete = this.tail.length ? Buffer.concat([this.tail, chunk.subarray(0, nl + 1)]) : chunk.subarray(0, nl + 1);
    this.tail = nl + 1 < chunk.length ? Buffer.from(chunk.subarray(nl + 1)) : EMPTY;
    if (!this.strip) {
      if (complete.includes('"prompt_tokens"')) this.lines(complete.toString('utf8'));
      return chunk;
    }
    return this.stripCompact(complete) ?? this.lines(complete.toString('utf8'));
  }

  /**
   * Per-chunk fast path: when every `"usage"` in these lines is a compact `,"usage":null` member, cut those bytes
   * out without decoding. A `"usage"` key cannot occur inside a JSON string (its quotes would be escaped), so a
   * byte match is a member. Anything else (usage numbers, other spacing, a pending blank line) → undefined, and
   * the line parser decides.
   */
  private stripCompact(buf: Buffer): Buffer | undefined {
    if (this.dropBlank) return undefined;
    let at = buf.indexOf(USAGE_KEY);
    if (at < 0) return buf;
    const parts: Buffer[] = [];
    let from = 0;
    while (at >= 0) {
      const start = at - 1;
      const end = start + COMPACT_NULL_USAGE.length;
      if (start < 0 || end >= buf.length || buf.compare(COMPACT_NULL_USAGE, 0, COMPACT_NULL_USAGE.length, start, end) !== 0) return undefined;
      if (buf[end] !== CLOSE_BRACE && buf[end] !== COMMA) return undefined;
      parts.push(buf.subarray(from, start));
      from = end;
      at = buf.indexOf(USAGE_KEY, end);
    }
    parts.push(buf.subarray(from));
    return Buffer.concat(parts);
  }

  end(): string {
    const rest = this.tail.toString('utf8');
    this.tail = EMPTY;
    if (!rest) return '';
    const out = this.lines(`${rest}\n`);
    return this.strip ? out.slice(0, -1) : '';
  }

  /** Processes complete lines (text ends with "\n"); returns what the caller gets in strip mode. */
  private lines(text: string): string {
    const lines = text.split('\n');
    lines.pop();
    const out: string[] = [];
    for (const line of lines) {
      const kept = this.line(line);
      if (kept !== undefined) out.push(kept);
    }
    return out.length ? `${out.join('\n')}\n` : '';
  }

  private line(line: string): string | undefined {
    const cr = line.endsWith('\r') ? '\r' : '';
    const bare = cr ? line.slice(0, -1) : line;
    if (this.dropBlank) {
      this.dropBlank = false;
      if (bare === '' && this.strip) return undefined;
    }
    if (!bare.startsWith('data:') || !bare.includes('"usage"')) return line;
    const json = bare.slice(5).trimStart();
    if (bare.includes('"prompt_tokens"')) {
      const obj = parseObject(json);
      const u = obj ? fromOpenAIUsage(obj.usage) : undefined;
      if (u) this.usage = u;
      if (!this.strip || !obj || !u) return line;
      if (Array.isArray(obj.choices) && obj.choices.length === 0) {
        this.dropBlank = true;
        return undefined;
      }
      delete obj.usage;
      return `${bare.slice(0, bare.length - json.length)}${JSON.stringify(obj)}${cr}`;
    }
    if (!this.strip) return line;
    if (NULL_USAGE_AFTER.test(bare)) return bare.replace(NULL_USAGE_AFTER, '') + cr;
    if (NULL_USAGE_FIRST.test(bare)) return bare.replace(NULL_USAGE_FIRST, '{$1') + cr;
    return line;
  }
}
