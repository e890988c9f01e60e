import { MAX_JSON_DEPTH } from '../../codec/json-depth.js';
import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, DOT, MINUS, OPEN_BRACE, OPEN_BRACKET, QUOTE } from '../../codec/json-bytes.js';

/**
 * What a whole passthrough answer's bytes hold, read without building the answer: JSON.parse of a whole
 * `chat.completion` (its text decoded, every object and string made) to read three numbers of `usage` is most of
 * the connector's work on such an answer. The scan checks the JSON grammar as JSON.parse does (of the bytes' UTF-8
 * text: bytes that are not UTF-8 only ever stand inside strings, where JSON.parse takes them as U+FFFD) and notes
 * where the top-level `usage` member's value is; that value alone is parsed.
 *
 * * `invalid`: not a JSON object (not JSON, or another value): what whole.ts passes on untouched.
 * * `parse`: the answer needs JSON.parse after all: a `tool_calls` member anywhere (the finish_reason rule reads
 *   it), a key with an escape (it may spell one), or nesting deeper than MAX_JSON_DEPTH (JSON.parse may give up).
 * * `plain`: a JSON object with none of those; `usage` is the byte range [from, to) of the last top-level `usage`
 *   member's value (JSON.parse keeps the last of repeated keys), if any.
 */
export type AnswerScan = { kind: 'invalid' } | { kind: 'parse' } | { kind: 'plain'; usage?: { from: number; to: number } };

const INVALID: AnswerScan = { kind: 'invalid' };
const PARSE: AnswerScan = { kind: 'parse' };

const USAGE = Buffer.from('usage');
const TOOL_CALLS = Buffer.from('tool_calls');
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');

/** Where the scan is: at a value, at an object's key, or just after a value. */
const AT_VALUE = 0;
const AT_KEY = 1;
const AFTER_VALUE = 2;

const IN_OBJECT = 1;
const IN_ARRAY = 2;

/**
 * What each open level is (IN_OBJECT, IN_ARRAY), by depth: one array for every scan (a scan runs to its end
 * synchronously and reads only the levels it opened), since a typed array per answer cost a quarter of the scan.
 */
const open = new Uint8Array(MAX_JSON_DEPTH + 1);

export function scanAnswer(buf: Buffer): AnswerScan {
  const n = buf.length;
  let depth = 0;
  let i = skipSpace(buf, 0);
  if (buf[i] !== OPEN_BRACE) return INVALID;
  let state = AT_VALUE;
  /** Where the top-level `usage` value being scanned starts (-1: none being scanned). */
  let usageAt = -1;
  let usage: { from: number; to: number } | undefined;
  for (;;) {
    if (state === AT_VALUE) {
      i = skipSpace(buf, i);
      const c = buf[i];
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (++depth > MAX_JSON_DEPTH) return PARSE;
        open[depth] = c === OPEN_BRACE ? IN_OBJECT : IN_ARRAY;
        i = skipSpace(buf, i + 1);
        const close = c === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET;
        if (buf[i] === close) {
          depth--;
          i++;
          state = AFTER_VALUE;
        } else state = c === OPEN_BRACE ? AT_KEY : AT_VALUE;
        continue;
      }
      if (c === QUOTE) i = stringEnd(buf, i);
      else if (c === MINUS || isDigit(c)) i = numberEnd(buf, i);
      else if (c === 0x74) i = literalEnd(buf, i, TRUE);
      else if (c === 0x66) i = literalEnd(buf, i, FALSE);
      else if (c === 0x6e) i = literalEnd(buf, i, NULL);
      else return INVALID;
      if (i === -1) return INVALID;
      state = AFTER_VALUE;
    } else if (state === AT_KEY) {
      if (buf[i] !== QUOTE) return INVALID;
      const end = stringEnd(buf, i);
      if (end === -1) return INVALID;
      if (hasByte(buf, i + 1, end - 1, BACKSLASH)) return PARSE;
      if (isKey(buf, i + 1, end - 1, TOOL_CALLS)) return PARSE;
      const topUsage = depth === 1 && isKey(buf, i + 1, end - 1, USAGE);
      i = skipSpace(buf, end);
      if (buf[i] !== COLON) return INVALID;
      i = skipSpace(buf, i + 1);
      if (topUsage) usageAt = i;
      state = AT_VALUE;
    } else {
      // A top-level member's value ends back at depth 1: the usage value, if that was the one being scanned.
      if (depth === 1 && usageAt !== -1) {
        usage = { from: usageAt, to: i };
        usageAt = -1;
      }
      i = skipSpace(buf, i);
      if (depth === 0) return i === n ? (usage === undefined ? { kind: 'plain' } : { kind: 'plain', usage }) : INVALID;
      const c = buf[i];
      if (c === COMMA) {
        i = skipSpace(buf, i + 1);
        state = open[depth] === IN_OBJECT ? AT_KEY : AT_VALUE;
      } else if (c === (open[depth] === IN_OBJECT ? CLOSE_BRACE : CLOSE_BRACKET)) {
        depth--;
        i++;
      } else return INVALID;
    }
  }
}

/**
 * The index of the first non-space byte from `i` (the length at the end). Bounded by the length, never reading past
 * it: a read past the end of a typed array (undefined) slows every load of that site; unbounded, this loop made a
 * third of the scan's instructions (callgrind: 22.1 k -> 15.3 k per 267-byte answer).
 */
function skipSpace(buf: Buffer, i: number): number {
  const n = buf.length;
  while (i < n) {
    const b = buf[i];
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return i;
    i++;
  }
  return i;
}

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x39;
}

function isHex(b: number | undefined): boolean {
  return b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));
}

function hasByte(buf: Buffer, from: number, to: number, b: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] === b) return true;
  return false;
}

/**
 * The bytes [from, to) are exactly `key`. Compared here, byte by byte: Buffer#compare is a call into C++ with its
 * arguments checked, several times the cost of comparing a handful of bytes (keys and literals are short).
 */
function isKey(buf: Buffer, from: number, to: number, key: Buffer): boolean {
  const n = key.length;
  if (to - from !== n) return false;
  for (let k = 0; k < n; k++) if (buf[from + k] !== key[k]) return false;
  return true;
}

/** `at` is an opening quote: the index past the closing one, or -1 when the string is not valid JSON. */
function stringEnd(buf: Buffer, at: number): number {
  const n = buf.length;
  for (let i = at + 1; i < n; i++) {
    const b = buf[i]!;
    if (b === QUOTE) return i + 1;
    if (b < 0x20) return -1;
    if (b !== BACKSLASH) continue;
    const e = buf[++i];
    if (e === 0x75) {
      if (!(isHex(buf[i + 1]) && isHex(buf[i + 2]) && isHex(buf[i + 3]) && isHex(buf[i + 4]))) return -1;
      i += 4;
    } else if (e !== QUOTE && e !== BACKSLASH && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return -1;
  }
  return -1;
}

/** A JSON number at `at`: the index past it, or -1. */
function numberEnd(buf: Buffer, at: number): number {
  let i = at;
  if (buf[i] === MINUS) i++;
  if (buf[i] === 0x30) i++;
  else if (isDigit(buf[i])) while (isDigit(buf[i])) i++;
  else return -1;
  if (buf[i] === DOT) {
    i++;
    if (!isDigit(buf[i])) return -1;
    while (isDigit(buf[i])) i++;
  }
  if (buf[i] === 0x65 || buf[i] === 0x45) {
    i++;
    if (buf[i] === 0x2b || buf[i] === MINUS) i++;
    if (!isDigit(buf[i])) return -1;
    while (isDigit(buf[i])) i++;
  }
  return i;
}

/** A literal (true, false, null) at `at`: the index past it, or -1 (compared byte by byte, as isKey). */
function literalEnd(buf: Buffer, at: number, literal: Buffer): number {
  const n = literal.length;
  if (at + n > buf.length) return -1;
  for (let k = 0; k < n; k++) if (buf[at + k] !== literal[k]) return -1;
  return at + n;
}
