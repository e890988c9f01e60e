import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, OPEN_BRACE, OPEN_BRACKET, QUOTE } from './json-bytes.js';

/**
 * The deepest JSON nesting a request may have. Real requests (tool schemas, nested content) stay far below this;
 * a body nested millions deep costs seconds of event-loop time to parse and must be refused before any parse.
 */
export const MAX_JSON_DEPTH = 128;


/**
 * Whether `bytes` (UTF-8 JSON, not yet parsed) nests objects/arrays deeper than `max`: one pass over the bytes
 * counting brackets outside strings, stopping at the first level past `max`. It does not validate the JSON (the
 * parse that follows does); it only bounds what that parse costs. UTF-8 multi-byte sequences never contain the
 * ASCII bytes looked at, so scanning bytes is exact.
 */
export function jsonDeeperThan(bytes: Uint8Array, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) depth--;
  }
  return false;
}
