/*
 * The byte-level pieces of the fast metadata readers (meta-scan.ts for an answer's Ack, Head and End, request-fast.ts
 * for a Request): JSON literals, strings without escapes of one character class, and plain integers, read from a
 * frame's bytes without decoding them as text. Each takes the offset to read at and the end of the metadata, and
 * answers -1 (or false) for anything it does not read exactly: the reader then gives the frame to decodeFrame's slow
 * path, which accepts it or names what is wrong.
 */

/**
 * Character classes of the strings read, as bits of a table indexed by byte (one load per character instead of a
 * chain of comparisons; bytes of 0x80 and up are in no class, so non-ASCII text always goes the slow way).
 */
export const CharClass = {
  /** ID_PATTERN: [A-Za-z0-9_-] */
  Id: 1,
  /** The rest of REQUEST_ID_PATTERN: [A-Za-z0-9._:@+=/-] (its first character: Alnum). */
  RequestId: 2,
  /** [A-Za-z0-9] */
  Alnum: 4,
  /** Printable ASCII other than `"` and `\`: a JSON string's text is its bytes. The one class that may be empty. */
  Text: 8,
  /** [a-z0-9-]: the header names meta-fast takes. */
  HeaderName: 16,
} as const;
export type CharClass = (typeof CharClass)[keyof typeof CharClass];

const CLASSES = new Uint8Array(256);
for (let c = 0x20; c <= 0x7e; c++) {
  const lower = c >= 0x61 && c <= 0x7a;
  const digit = c >= 0x30 && c <= 0x39;
  const alnum = lower || digit || (c >= 0x41 && c <= 0x5a);
  let bits = c === 0x22 || c === 0x5c ? 0 : CharClass.Text;
  if (alnum) bits |= CharClass.Alnum | CharClass.Id | CharClass.RequestId;
  if (c === 0x5f || c === 0x2d) bits |= CharClass.Id;
  if ('._:@+=/-'.includes(String.fromCharCode(c))) bits |= CharClass.RequestId;
  if (lower || digit || c === 0x2d) bits |= CharClass.HeaderName;
  CLASSES[c] = bits;
}

/** The bytes of an ASCII literal. */
export const asciiBytes = (s: string): Buffer => Buffer.from(s, 'latin1');

const TRUE = asciiBytes('true');
const FALSE = asciiBytes('false');

/** Digits of an integer read here: 15 are always below Number.MAX_SAFE_INTEGER, as the schemas' integers must be. */
export const MAX_DIGITS = 15;

/** Whether `b` holds `lit` at `i`, before `end`. */
export function literalAt(b: Uint8Array, i: number, end: number, lit: Uint8Array): boolean {
  const n = lit.length;
  if (i < 0 || i + n > end) return false;
  for (let k = 0; k < n; k++) if (b[i + k] !== lit[k]) return false;
  return true;
}

/**
 * The offset after a JSON string whose opening quote is at `i`: 1 to `max` characters of class `cls` (`first`: of the
 * first one; Text may be empty), closed by `"` before `end`. Else -1. Its text is the bytes between the quotes.
 */
export function stringEnd(b: Uint8Array, i: number, end: number, cls: CharClass, max: number, first: CharClass = cls): number {
  if (i < 0 || b[i] !== 0x22) return -1;
  const from = i + 1;
  const last = Math.min(end, from + max + 1);
  if (from >= last) return -1;
  // The first character apart (its own class; a closing quote there is an empty string), so the loop over the rest
  // (every id, model and header of every Request) tests one class and no position.
  const c0 = b[from]!;
  if (c0 === 0x22) return cls !== CharClass.Text ? -1 : from + 1;
  if ((CLASSES[c0]! & first) === 0) return -1;
  for (let k = from + 1; k < last; k++) {
    const c = b[k]!;
    if (c === 0x22) return k + 1;
    if ((CLASSES[c]! & cls) === 0) return -1;
  }
  return -1;
}

/** The value of the integer intEnd() read last (no object per number: the readers are synchronous, never reentrant). */
export const scanned = { int: 0 };

/** The offset after a JSON integer at `i` (`0`, or 1-15 digits without a leading zero), its value in scanned.int; or -1. */
export function intEnd(b: Uint8Array, i: number, end: number): number {
  if (i < 0) return -1;
  let k = i;
  let v = 0;
  for (; k < end && k - i <= MAX_DIGITS; k++) {
    const d = b[k]! - 0x30;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  const n = k - i;
  if (n === 0 || n > MAX_DIGITS || (n > 1 && b[i] === 0x30)) return -1;
  scanned.int = v;
  return k;
}

/** The offset after `true` or `false` at `i`, or -1 (which one: literalAt(b, i, end, …) beforehand, or b[i]). */
export function boolEnd(b: Uint8Array, i: number, end: number): number {
  if (literalAt(b, i, end, TRUE)) return i + 4;
  if (literalAt(b, i, end, FALSE)) return i + 5;
  return -1;
}
