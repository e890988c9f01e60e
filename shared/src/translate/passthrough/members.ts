import { BACKSLASH, COLON, QUOTE } from '../../codec/json-bytes.js';

/**
 * Byte-level reading of JSON object members in the passthrough hot path, without decoding. A quoted key followed by
 * a colon cannot occur inside a JSON string (the string's own quotes would be escaped), so a match of `"key"` that
 * is followed by optional whitespace and `:` is a member of some object on that line.
 */


function isSpace(b: number | undefined): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a;
}

/** `at` is the index just past a quoted key: the index of its value's first byte, or -1 when it is no member key. */
export function valueAt(buf: Buffer, at: number): number {
  let i = at;
  while (isSpace(buf[i])) i++;
  if (buf[i] !== COLON) return -1;
  i++;
  while (isSpace(buf[i])) i++;
  return i < buf.length ? i : -1;
}

/** `at` is an opening quote: the index just past the closing quote, or -1 when the string does not end in `buf`. */
export function stringEnd(buf: Buffer, at: number): number {
  for (let i = at + 1; i < buf.length; i++) {
    const b = buf[i];
    if (b === BACKSLASH) i++;
    else if (b === QUOTE) return i + 1;
  }
  return -1;
}

/** The bytes at `at` are exactly `literal`. */
export function startsWithAt(buf: Buffer, at: number, literal: Buffer): boolean {
  return at + literal.length <= buf.length && buf.compare(literal, 0, literal.length, at, at + literal.length) === 0;
}

/** One replacement in a buffer: bytes [from, to) become `bytes`. */
export interface Edit {
  from: number;
  to: number;
  bytes: Buffer;
}

/** `buf` with the edits (ordered, not overlapping) applied. */
export function applyEdits(buf: Buffer, edits: Edit[]): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  for (const e of edits) {
    if (e.from > from) parts.push(buf.subarray(from, e.from));
    if (e.bytes.length > 0) parts.push(e.bytes);
    from = e.to;
  }
  if (from < buf.length) parts.push(buf.subarray(from));
  return Buffer.concat(parts);
}
