import { FrameKind } from './kinds.js';
import { HEADER_BYTES, ID_OFFSET, MAX_META_BYTES, META_LEN_OFFSET, readU32 } from './layout.js';
import { CALLER_PROTOCOLS, type CallerProtocol, type RequestMeta } from './meta.js';
import type { FrameOf } from './frame.js';

/*
 * The Request an ingress publishes, read from its bytes when its metadata is exactly what fabricRequestJson writes:
 * no UTF-8 decode, no JSON.parse, no walk of the parsed object, per request on the terminator. It accepts a strict
 * subset of what decodeFrame accepts and returns the same frame (the same fields and values): the writer's key order,
 * no whitespace, strings of printable ASCII without `"` or `\` (their bytes are their text), plain digits without a
 * leading zero (at most 15: safe integers), ids and request ids of their patterns' characters, header names of
 * lower-case letters, digits and `-` (what meta-fast takes). Anything else returns undefined and the caller decodes
 * the frame as usual, which accepts it or names what is wrong. The protocol test compares both on valid and hostile
 * samples.
 *
 * The writer puts the fields set on NATS only (who asked, what the ingress reads) last, so the Request's metadata as
 * the connector gets it (tunnelRequestJson's fields) is the text up to them, closed: `tunnelMeta`, bytes copied
 * instead of a JSON text built and encoded again per request.
 */

/** A Request read from its bytes, and its metadata for the connector. */
export interface FastRequest {
  readonly frame: FrameOf<typeof FrameKind.Request>;
  /** The metadata without the NATS-only fields, as JSON bytes: tunnelRequestJson's fields and values (requestId where the ingress put it). */
  readonly tunnelMeta: Buffer;
}

const PROTOCOLS: ReadonlySet<string> = new Set(CALLER_PROTOCOLS);
const isProtocol = (p: string): p is CallerProtocol => PROTOCOLS.has(p);

/**
 * Character classes of the strings read here, as bits of a table indexed by byte (one load per character instead of
 * a chain of comparisons; bytes of 0x80 and up are in no class).
 */
const ID = 1; // ID_PATTERN: [A-Za-z0-9_-]
const REQUEST_ID = 2; // the rest of REQUEST_ID_PATTERN: [A-Za-z0-9._:@+=/-] (its first character: ALNUM)
const ALNUM = 4; // [A-Za-z0-9]
const TEXT = 8; // printable ASCII other than `"` and `\`
const HEADER_NAME = 16; // [a-z0-9-]
const CLASSES = new Uint8Array(256);
for (let c = 0x20; c <= 0x7e; c++) {
  const lower = c >= 0x61 && c <= 0x7a;
  const alnum = lower || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a);
  let bits = c === 0x22 || c === 0x5c ? 0 : TEXT;
  if (alnum) bits |= ALNUM | ID | REQUEST_ID;
  if (c === 0x5f || c === 0x2d) bits |= ID;
  if ('._:@+=/-'.includes(String.fromCharCode(c))) bits |= REQUEST_ID;
  if (lower || (c >= 0x30 && c <= 0x39) || c === 0x2d) bits |= HEADER_NAME;
  CLASSES[c] = bits;
}

/** The literal parts of fabricRequestJson's text, as bytes. */
const bytes = (t: string): Uint8Array => new TextEncoder().encode(t);
const K_RID = bytes('{"rid":');
const K_REQUEST_ID_KEY = bytes(',"requestId":');
const K_PROTOCOL = bytes(',"protocol":');
const K_MODEL = bytes(',"model":');
const K_STREAM = bytes(',"stream":');
const K_BODY_LENGTH = bytes(',"bodyLength":');
const K_DEADLINE = bytes(',"deadline":');
const K_HEADERS = bytes(',"headers":{');
const K_INGRESS_ID = bytes(',"ingressId":');
const K_TENANT_ID = bytes(',"tenantId":');
const K_KEY_ID = bytes(',"keyId":');
const K_BATCHES = bytes(',"batches":');
const K_PAIR_HEARTBEATS = bytes(',"pairHeartbeats":');
const K_TRUE = bytes('true');
const K_FALSE = bytes('false');

/** Digits of an integer read here: 15 are always below Number.MAX_SAFE_INTEGER. */
const MAX_DIGITS = 15;
const NO_PAYLOAD = Buffer.alloc(0);

/** A Request in fabricRequestJson's form, as decodeFrame would return it, with its tunnel metadata; else undefined. */
export function fastRequest(input: Uint8Array): FastRequest | undefined {
  if (input.byteLength < HEADER_BYTES || input[0] !== FrameKind.Request) return undefined;
  const metaLen = readU32(input, META_LEN_OFFSET);
  const end = HEADER_BYTES + metaLen;
  if (metaLen > MAX_META_BYTES || end > input.byteLength) return undefined;
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  // One character per byte: offsets in `s` are offsets in the metadata, whatever the bytes (non-ASCII is refused below).
  const s = buf.toString('latin1', HEADER_BYTES, end);
  // The same bytes, scanned as bytes (a typed array load per character is cheaper than charCodeAt); `s` gives the strings.
  const m = buf.subarray(HEADER_BYTES, end);
  if (!has(m, 0, K_RID)) return undefined;
  let i = 7;
  let j = str(m, i, ID, 64);
  if (j < 0) return undefined;
  const rid = s.slice(i + 1, j - 1);
  i = j;
  let requestId: string | undefined;
  if (has(m, i, K_REQUEST_ID_KEY)) {
    i += 13;
    j = str(m, i, REQUEST_ID, 128, ALNUM);
    if (j < 0) return undefined;
    requestId = s.slice(i + 1, j - 1);
    i = j;
  }
  if (!has(m, i, K_PROTOCOL)) return undefined;
  i += 12;
  j = str(m, i, TEXT, 64);
  if (j < 0) return undefined;
  const protocol = s.slice(i + 1, j - 1);
  if (!isProtocol(protocol)) return undefined;
  i = j;
  if (!has(m, i, K_MODEL)) return undefined;
  i += 9;
  j = str(m, i, TEXT, 256);
  if (j < 0) return undefined;
  const model = s.slice(i + 1, j - 1);
  i = j;
  if (!has(m, i, K_STREAM)) return undefined;
  i += 10;
  const stream = has(m, i, K_TRUE);
  j = bool(m, i);
  if (j < 0 || !has(m, j, K_BODY_LENGTH)) return undefined;
  i = j + 14;
  j = int(m, i);
  if (j < 0) return undefined;
  const bodyLength = intValue;
  if (!has(m, j, K_DEADLINE)) return undefined;
  i = j + 12;
  j = int(m, i);
  if (j < 0) return undefined;
  const deadline = intValue;
  if (deadline < 1) return undefined;
  i = j;
  const meta: RequestMeta = { rid, protocol, model, stream, bodyLength, deadline };
  if (requestId !== undefined) meta.requestId = requestId;
  if (has(m, i, K_HEADERS)) {
    i += 12;
    const headers: Record<string, string> = {};
    if (m[i] === 0x7d) i++;
    else {
      for (;;) {
        j = str(m, i, HEADER_NAME, 64);
        // A header name is never `__proto__` (no `_`): assigning it sets an own property, as JSON.parse does.
        if (j < 0 || m[j] !== 0x3a) return undefined;
        const name = s.slice(i + 1, j - 1);
        i = j + 1;
        j = str(m, i, TEXT, 1024);
        if (j < 0) return undefined;
        headers[name] = s.slice(i + 1, j - 1);
        i = j + 1;
        const c = m[j];
        if (c === 0x7d) break;
        if (c !== 0x2c) return undefined;
      }
    }
    meta.headers = headers;
  }
  const tunnelEnd = i;
  if (has(m, i, K_INGRESS_ID)) {
    i += 13;
    j = str(m, i, ID, 64);
    if (j < 0) return undefined;
    meta.ingressId = s.slice(i + 1, j - 1);
    i = j;
  }
  if (has(m, i, K_TENANT_ID)) {
    i += 12;
    j = str(m, i, ID, 64);
    if (j < 0) return undefined;
    meta.tenantId = s.slice(i + 1, j - 1);
    i = j;
  }
  if (has(m, i, K_KEY_ID)) {
    i += 9;
    j = str(m, i, ID, 64);
    if (j < 0) return undefined;
    meta.keyId = s.slice(i + 1, j - 1);
    i = j;
  }
  if (has(m, i, K_BATCHES)) {
    i += 11;
    meta.batches = has(m, i, K_TRUE);
    i = bool(m, i);
    if (i < 0) return undefined;
  }
  if (has(m, i, K_PAIR_HEARTBEATS)) {
    i += 18;
    meta.pairHeartbeats = has(m, i, K_TRUE);
    i = bool(m, i);
    if (i < 0) return undefined;
  }
  if (i + 1 !== m.length || m[i] !== 0x7d) return undefined;
  const tunnelMeta = Buffer.allocUnsafe(tunnelEnd + 1);
  buf.copy(tunnelMeta, 0, HEADER_BYTES, HEADER_BYTES + tunnelEnd);
  tunnelMeta[tunnelEnd] = 0x7d;
  const frame: FrameOf<typeof FrameKind.Request> = { kind: FrameKind.Request, id: readU32(buf, ID_OFFSET), meta, payload: end === buf.length ? NO_PAYLOAD : buf.subarray(end) };
  return { frame, tunnelMeta };
}

/**
 * The offset after a JSON string at `i` of the metadata `m` (its opening quote there) of 1 to `max` characters of
 * class `cls` (`first`: of the first one; TEXT may be empty), or -1.
 */
function str(m: Uint8Array, i: number, cls: number, max: number, first = cls): number {
  if (m[i] !== 0x22) return -1;
  const from = i + 1;
  const last = Math.min(m.length, from + max + 1);
  for (let k = from; k < last; k++) {
    const c = m[k]!;
    if (c === 0x22) return k === from && cls !== TEXT ? -1 : k + 1;
    if ((CLASSES[c]! & (k === from ? first : cls)) === 0) return -1;
  }
  return -1;
}

/** The value of the JSON integer int() just read (no object per number). */
let intValue = 0;

/** The offset after a JSON integer at `i` (`0`, or 1-15 digits without a leading zero), its value in intValue; or -1. */
function int(m: Uint8Array, i: number): number {
  let k = i;
  let v = 0;
  for (; k < m.length && k - i <= MAX_DIGITS; k++) {
    const d = m[k]! - 0x30;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  const n = k - i;
  if (n === 0 || n > MAX_DIGITS || (n > 1 && m[i] === 0x30)) return -1;
  intValue = v;
  return k;
}

/** Whether the metadata has `lit` at `i`. */
function has(m: Uint8Array, i: number, lit: Uint8Array): boolean {
  const n = lit.length;
  if (i + n > m.length) return false;
  for (let k = 0; k < n; k++) if (m[i + k] !== lit[k]) return false;
  return true;
}

/** The offset after `true` or `false` at `i`, or -1. */
function bool(m: Uint8Array, i: number): number {
  if (has(m, i, K_TRUE)) return i + 4;
  if (has(m, i, K_FALSE)) return i + 5;
  return -1;
}
