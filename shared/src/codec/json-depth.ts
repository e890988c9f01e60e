import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, OPEN_BRACE, OPEN_BRACKET, QUOTE } from './json-bytes.js';

/**
 * The deepest JSON nesting a request may have. Real requests (tool schemas, nested content) stay far below this;
 * a body nested millions deep costs seconds of event-loop time to parse and must be refused before any parse.
 */
export const MAX_JSON_DEPTH = 128;


/** Strings shorter than this are walked byte by byte; past it the closing quote is found by indexOf (memchr). */
const SHORT_STRING = 16;

/**
 * Whether `bytes` (UTF-8 JSON, not yet parsed) nests objects/arrays deeper than `max`: one pass over the bytes
 * counting brackets outside strings, stopping at the first level past `max`. It does not validate the JSON (the
 * parse that follows does); it only bounds what that parse costs. UTF-8 multi-byte sequences never contain the
 * ASCII bytes looked at, so scanning bytes is exact. Most of a request is string content (prompts): a string's end
 * is searched for natively rather than walked a byte at a time, which cost ~6 instructions per byte of every body.
 */
export function jsonDeeperThan(bytes: Uint8Array, max = MAX_JSON_DEPTH): boolean {
  // Every level opens with a byte of its own: a text no longer than `max` cannot nest deeper.
  if (bytes.length <= max) return false;
  let depth = 0;
  // The length read once: a typed array's length read per byte doubles the loop's instructions (callgrind: 32 -> 16 per byte).
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === QUOTE) i = stringEnd(bytes, i);
    else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) depth--;
  }
  return false;
}

/**
 * The index of the quote closing the string opened at `open` (bytes.length when it is never closed): the first quote
 * after it not escaped, i.e. not preceded by an odd run of backslashes (a backslash escapes the byte after it, so a
 * run pairs up from its start; the run cannot reach past `open`, a quote).
 */
function stringEnd(bytes: Uint8Array, open: number): number {
  const n = bytes.length;
  const short = Math.min(n, open + 1 + SHORT_STRING);
  for (let i = open + 1; i < short; i++) {
    const b = bytes[i]!;
    if (b === BACKSLASH) i++;
    else if (b === QUOTE) return i;
  }
  let from = short;
  // No closing quote before `short`: from there the backslash-run rule decides (it needs nothing from the walk).
  for (;;) {
    const q = bytes.indexOf(QUOTE, from);
    if (q < 0) return n;
    let k = q - 1;
    while (k > open && bytes[k] === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q;
    from = q + 1;
  }
}
