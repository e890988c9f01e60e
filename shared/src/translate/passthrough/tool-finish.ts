import { applyEdits, startsWithAt, valueAt, type Edit } from './members.js';
import { CLOSE_BRACKET, OPEN_BRACKET, QUOTE } from '../../codec/json-bytes.js';

const TOOL_CALLS_KEY = Buffer.from('"tool_calls"');
const FINISH_KEY = Buffer.from('"finish_reason"');
const STOP = Buffer.from('"stop"');
const TOOL_CALLS = Buffer.from('"tool_calls"');
const UNDERSCORE = 0x5f;
/** Where the underscore is in `"tool_calls"`. */
const UNDERSCORE_AT = TOOL_CALLS_KEY.indexOf(UNDERSCORE);

function isSpace(b: number | undefined): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a;
}

/**
 * The one finish rule of the translated paths, on passthrough stream bytes: once the answer made a tool call, a
 * `"finish_reason":"stop"` is `"tool_calls"` (some servers say `stop` after tool calls, and clients that loop on
 * `finish_reason === "tool_calls"` then drop the call). `length` and the others stay.
 *
 * Byte level, on complete lines (see members.ts: a quoted key followed by `:` is always a member, never string
 * content). A non-empty `"tool_calls":[…]` member marks the answer; `"finish_reason"` is looked for only after that.
 * Only for a single-choice stream (`n` absent or 1): with several choices the bytes do not say which choice called.
 */
export class ToolFinish {
  private sawTool = false;

  /** `data` (complete SSE lines) with a `stop` finish after a tool call rewritten; the same buffer when nothing is. */
  apply(data: Buffer): Buffer {
    let from = 0;
    if (!this.sawTool) {
      const at = this.firstCall(data);
      if (at === -1) return data;
      this.sawTool = true;
      from = at;
    }
    let edits: Edit[] | undefined;
    for (let at = data.indexOf(FINISH_KEY, from); at !== -1; at = data.indexOf(FINISH_KEY, at + FINISH_KEY.length)) {
      const value = valueAt(data, at + FINISH_KEY.length);
      if (value === -1 || !startsWithAt(data, value, STOP)) continue;
      (edits ??= []).push({ from: value, to: value + STOP.length, bytes: TOOL_CALLS });
    }
    return edits === undefined ? data : applyEdits(data, edits);
  }

  /**
   * The index of the first non-empty `"tool_calls"` array member in `data`, or -1. This runs on every chunk of every
   * passthrough stream: a native substring search costs a fixed ~0.35 µs per call (a third of the whole hot path),
   * a single-byte one ~0.02 µs, so the key is found through its underscore (two or three per chunk: finish_reason,
   * system_fingerprint), each checked on its surrounding bytes before the whole key is compared.
   */
  private firstCall(data: Buffer): number {
    for (let u = data.indexOf(UNDERSCORE); u !== -1; u = data.indexOf(UNDERSCORE, u + 1)) {
      const at = u - UNDERSCORE_AT;
      if (at < 0 || data[at] !== QUOTE || data[at + TOOL_CALLS_KEY.length - 1] !== QUOTE || !startsWithAt(data, at, TOOL_CALLS_KEY)) continue;
      const value = valueAt(data, at + TOOL_CALLS_KEY.length);
      if (value === -1 || data[value] !== OPEN_BRACKET) continue;
      let i = value + 1;
      while (isSpace(data[i])) i++;
      if (i < data.length && data[i] !== CLOSE_BRACKET) return at;
    }
    return -1;
  }
}
