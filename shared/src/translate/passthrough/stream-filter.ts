import type { Usage } from '../../protocol/meta.js';
import { EMPTY } from '../answer/translator.js';
import { openaiStreamError } from '../caller/openai-chat/stream.js';
import { inStreamError } from '../upstream/openai/error.js';
import { openaiUsage } from '../upstream/openai/usage.js';
import { isRecord, parseJson } from '../util.js';
import { applyEdits, startsWithAt, valueAt, type Edit } from './members.js';
import { ModelName } from './model-name.js';
import { ToolFinish } from './tool-finish.js';
import { CLOSE_BRACE, COMMA } from '../../codec/json-bytes.js';

const NL = 0x0a;
const ERROR_KEY = Buffer.from('"error"');
const USAGE_KEY = Buffer.from('"usage"');
const NULL = Buffer.from('null');
/** An unfinished line longer than this is not an SSE event anyone can read: it is let through as it is. */
export const MAX_LINE = 1024 * 1024;
/** `"usage":null` after another member; the leading comma makes it a key, never string content. */
const NULL_USAGE_AFTER = /,\s*"usage"\s*:\s*null(?=\s*[,}])/;
/** `"usage":null` as the first member. */
const NULL_USAGE_FIRST = /\{(\s*)"usage"\s*:\s*null\s*,\s*/;

export interface PassthroughStreamOptions {
  /**
   * The upstream was asked for usage the caller did not ask for (so that streamed calls are counted too): the
   * caller gets the stream it asked for, without the usage-only last chunk and without `"usage"` members.
   */
  strip: boolean;
  /** A single-choice stream with tools: `finish_reason` "stop" after a tool call becomes "tool_calls" (see ToolFinish). */
  toolFinish: boolean;
  /** The deployment name, when the upstream's model has another: chunks name the deployment (see ModelName). */
  model?: string | undefined;
}

/**
 * The one line filter of the OpenAI Chat passthrough stream (OpenAI Chat caller, OpenAI-compatible upstream). The
 * caller gets the upstream's bytes except for:
 *
 * * in-stream error events: vLLM's `data: {"object":"error","message":…}` (which the OpenAI SDKs hand to the caller
 *   as a chunk without `choices` instead of raising it) and other servers' `{"error":{…}}` are rewritten to the
 *   `data: {"error":{message,type,param,code}}` event the translated paths send, the message cleaned and cut;
 * * usage: read from every chunk that has it (the last one wins); with `strip`, removed again (see the option);
 * * `finish_reason` "stop" after a tool call, which becomes "tool_calls" as on the translated paths (see ToolFinish);
 * * `model`, which names the deployment the caller asked for (see ModelName).
 *
 * Lines are cut on the newline byte (a UTF-8 character split between reads is never broken). Complete lines go out
 * at once; a trailing partial line waits for its newline, which SSE sends at the end of every event anyway. The hot
 * path looks at bytes only: a chunk without an `"error"` key and whose `"usage"` members are `null` is passed on as
 * it is (with compact `,"usage":null` members cut out when stripping); anything else is parsed line by line.
 */
export class PassthroughStreamFilter {
  usage: Usage | undefined;
  /** An in-stream error event went by: the answer is an error outcome (End.error), though its head said 200. */
  errored = false;
  private carry: Buffer = EMPTY;
  /** The last line was the stripped usage chunk: its blank line goes too. */
  private dropBlank = false;
  /** An overlong line is being let through: bytes pass untouched up to its newline. */
  private raw = false;
  private readonly toolFinish: ToolFinish | undefined;
  private readonly modelName: ModelName | undefined;

  constructor(private readonly options: PassthroughStreamOptions) {
    if (options.toolFinish) this.toolFinish = new ToolFinish();
    if (options.model !== undefined) this.modelName = new ModelName(options.model);
  }

  push(chunk: Uint8Array): Buffer {
    let buf: Buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let head: Buffer = EMPTY;
    if (this.raw) {
      const nl = buf.indexOf(NL);
      if (nl < 0) return buf;
      this.raw = false;
      head = buf.subarray(0, nl + 1);
      buf = buf.subarray(nl + 1);
    }
    const nl = buf.lastIndexOf(NL);
    if (nl < 0) {
      // Keep a copy: the caller may reuse its chunk buffer.
      this.carry = this.carry.length === 0 ? Buffer.from(buf) : Buffer.concat([this.carry, buf]);
      if (this.carry.length <= MAX_LINE) return head;
      const held = this.carry;
      this.carry = EMPTY;
      this.raw = true;
      return head.length === 0 ? held : Buffer.concat([head, held]);
    }
    const complete = this.carry.length === 0 ? (nl + 1 === buf.length ? buf : buf.subarray(0, nl + 1)) : Buffer.concat([this.carry, buf.subarray(0, nl + 1)]);
    this.carry = nl + 1 === buf.length ? EMPTY : Buffer.from(buf.subarray(nl + 1));
    const out = this.lines(complete);
    return head.length === 0 ? out : Buffer.concat([head, out]);
  }

  /** The body ended: a last line without its newline is filtered like the others. */
  end(): Buffer {
    const rest = this.carry;
    this.carry = EMPTY;
    return rest.length === 0 ? EMPTY : this.lines(rest);
  }

  private lines(data: Buffer): Buffer {
    let out = this.filtered(data);
    if (this.toolFinish !== undefined) out = this.toolFinish.apply(out);
    return this.modelName === undefined ? out : this.modelName.apply(out);
  }

  /** The lines with in-stream errors rewritten and usage read (and stripped). */
  private filtered(data: Buffer): Buffer {
    if (!this.dropBlank && data.indexOf(ERROR_KEY) === -1) {
      const edits = this.edits(data);
      if (edits !== undefined) return edits.length === 0 ? data : applyEdits(data, edits);
    }
    const out: Buffer[] = [];
    for (let from = 0; from < data.length; ) {
      const nl = data.indexOf(NL, from);
      const to = nl < 0 ? data.length : nl + 1;
      const line = this.line(data.subarray(from, to));
      if (line.length > 0) out.push(line);
      from = to;
    }
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  /**
   * The byte-level edits for these lines, or undefined when one of them must be parsed. Every `"usage"` member must
   * be `null`: when stripping, each is cut out in its compact form `,"usage":null` before `}` or `,` (what vLLM,
   * llama.cpp and SGLang send); any other spelling, and usage numbers, go to the line parser.
   */
  private edits(data: Buffer): Edit[] | undefined {
    const edits: Edit[] = [];
    // The next search starts after the value, and none is made when fewer bytes than a key remain: a substring
    // search has a fixed cost (~0.3 µs) that the usual chunk, its `"usage":null` last, would pay twice.
    for (let from = 0; data.length - from >= USAGE_KEY.length; ) {
      const at = data.indexOf(USAGE_KEY, from);
      if (at === -1) break;
      from = at + USAGE_KEY.length;
      const value = valueAt(data, from);
      if (value === -1) continue;
      if (!startsWithAt(data, value, NULL)) return undefined;
      const end = value + NULL.length;
      from = end;
      if (!this.options.strip) continue;
      const compact = data[at - 1] === COMMA && value === at + USAGE_KEY.length + 1 && (data[end] === CLOSE_BRACE || data[end] === COMMA);
      if (!compact) return undefined;
      edits.push({ from: at - 1, to: end, bytes: EMPTY });
    }
    return edits;
  }

  /** One line (with its line end, if any), parsed where the byte level could not decide. */
  private line(line: Buffer): Buffer {
    const text = line.toString('utf8');
    const eol = /\r?\n$/.exec(text)?.[0] ?? '';
    const bare = text.slice(0, text.length - eol.length);
    if (this.dropBlank) {
      this.dropBlank = false;
      if (bare === '' && this.options.strip) return EMPTY;
    }
    if (!bare.startsWith('data:')) return line;
    const json = bare.slice(5).trimStart();
    if (bare.includes('"error"')) {
      const error = errorEvent(json);
      if (error !== undefined) {
        this.errored = true;
        return Buffer.from(error + eol, 'utf8');
      }
    }
    if (!bare.includes('"usage"')) return line;
    const edits = this.edits(line);
    if (edits !== undefined) return edits.length === 0 ? line : applyEdits(line, edits);
    const parsed = parseJson(json);
    if (!parsed.ok || !isRecord(parsed.value) || !('usage' in parsed.value)) return line;
    const chunk = parsed.value;
    const usage = openaiUsage(chunk['usage']);
    if (usage !== undefined) this.usage = usage;
    if (!this.options.strip) return line;
    if (chunk['usage'] === null) {
      // Removed with the spacing it came with; the rest of the line stays byte for byte.
      if (NULL_USAGE_AFTER.test(bare)) return Buffer.from(bare.replace(NULL_USAGE_AFTER, '') + eol, 'utf8');
      if (NULL_USAGE_FIRST.test(bare)) return Buffer.from(bare.replace(NULL_USAGE_FIRST, '{$1') + eol, 'utf8');
      return line;
    }
    if (usage === undefined) return line;
    if (Array.isArray(chunk['choices']) && chunk['choices'].length === 0) {
      this.dropBlank = true;
      return EMPTY;
    }
    delete chunk['usage'];
    return Buffer.from(`${bare.slice(0, bare.length - json.length)}${JSON.stringify(chunk)}${eol}`, 'utf8');
  }
}

/** An upstream error event (`{"error":…}` or vLLM's `{"object":"error",…}`) as OpenAI's `data:` line, else undefined. */
function errorEvent(json: string): string | undefined {
  const parsed = parseJson(json);
  if (!parsed.ok || !isRecord(parsed.value)) return undefined;
  const text = inStreamError(parsed.value);
  if (text === undefined) return undefined;
  // openaiStreamError ends the event with a blank line; the upstream's own event end follows as usual.
  return openaiStreamError({ code: 'upstream_error', message: text }).replace(/\n\n$/, '');
}
