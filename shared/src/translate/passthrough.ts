import { openaiStreamError } from './caller/openai-chat/stream.js';
import { errorMessageOf, safeText } from './upstream/http-error.js';
import { isRecord, parseJson } from './util.js';

const NL = 0x0a;
const ERROR_MARK = Buffer.from('"error"');
const EMPTY = Buffer.alloc(0);

/**
 * The OpenAI Chat passthrough stream (OpenAI Chat caller, OpenAI-compatible upstream): bytes go out as the upstream
 * sent them, except in-stream error events. vLLM sends `data: {"object":"error","message":…}`, which the OpenAI SDKs
 * do not recognise as an error (they look for a top-level `error` key) and hand to the caller as a chunk without
 * `choices`; other servers send `{"error":{…}}` with their own wording. Both are rewritten to the same
 * `data: {"error":{message,type,param,code}}` event the translated paths send, with the upstream's message cleaned
 * and truncated as for any upstream error.
 *
 * Only whole lines are forwarded (a trailing partial line waits for its newline, which SSE sends at the end of
 * every event anyway); chunks without the `"error"` marker are forwarded as bytes, untouched and unparsed.
 */
export class PassthroughStreamFilter {
  private carry: Buffer = EMPTY;

  push(chunk: Uint8Array): Buffer | string {
    const data = this.carry.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat([this.carry, chunk]);
    const cut = data.lastIndexOf(NL) + 1;
    // Keep a copy: the caller may reuse its chunk buffer.
    this.carry = cut === data.length ? EMPTY : Buffer.from(data.subarray(cut));
    return this.lines(data.subarray(0, cut));
  }

  end(): Buffer | string {
    const rest = this.carry;
    this.carry = EMPTY;
    return this.lines(rest);
  }

  private lines(data: Buffer): Buffer | string {
    if (data.indexOf(ERROR_MARK) === -1) return data;
    let out = '';
    for (const line of data.toString('utf8').split(/(?<=\n)/)) out += rewriteLine(line);
    return out;
  }
}

function rewriteLine(line: string): string {
  const m = /^data:\s?(.*?)(\r?\n)?$/s.exec(line);
  if (!m) return line;
  const parsed = parseJson(m[1]!);
  if (!parsed.ok || !isRecord(parsed.value)) return line;
  const v = parsed.value;
  const isError = (v['error'] !== undefined && v['error'] !== null) || v['object'] === 'error';
  if (!isError || Array.isArray(v['choices'])) return line;
  const message = errorMessageOf(v);
  const text = message === undefined ? 'The model server failed mid-stream.' : `The model server failed: ${safeText(message)}`;
  // openaiStreamError ends the event with a blank line; the upstream's own event end follows as usual.
  return openaiStreamError({ code: 'upstream_error', message: text }).replace(/\n\n$/, '') + (m[2] ?? '');
}
