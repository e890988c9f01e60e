import { FrameKind } from './kinds.js';
import { HEADER_BYTES, ID_OFFSET, MAX_META_BYTES, META_LEN_OFFSET, readU32 } from './layout.js';
import { CALLER_PROTOCOLS, type CallerProtocol, type RequestMeta } from './meta.js';
import type { FrameOf } from './frame.js';
import { CharClass, asciiBytes, boolEnd, intEnd, literalAt, scanned, stringEnd } from './json-scan.js';

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

/** The literal parts of fabricRequestJson's text, as bytes. */
const bytes = asciiBytes;
const K_RID = bytes('{"rid":');
const K_REQUEST_ID_KEY = bytes(',"requestId":');
const K_PROTOCOL = bytes(',"protocol":');
const K_MODEL = bytes(',"model":');
const K_STREAM = bytes(',"stream":');
const K_BODY_LENGTH = bytes(',"bodyLength":');
const K_DEADLINE = bytes(',"deadline":');
const K_HEADERS = bytes(',"headers":{');
/** The NATS-only fields, in the writer's order: each an id or a flag, each optional (fieldEnd). */
const K_INGRESS_ID = bytes(',"ingressId":');
const K_TENANT_ID = bytes(',"tenantId":');
const K_KEY_ID = bytes(',"keyId":');
const K_BATCHES = bytes(',"batches":');
const K_PAIR_HEARTBEATS = bytes(',"pairHeartbeats":');
const K_TRUE = bytes('true');

const NO_PAYLOAD = Buffer.alloc(0);

/** A Request in fabricRequestJson's form, as decodeFrame would return it, with its tunnel metadata; else undefined. */
export function fastRequest(input: Uint8Array): FastRequest | undefined {
  const r = readRequest(input);
  if (r === undefined) return undefined;
  const tunnelMeta = Buffer.allocUnsafe(r.tunnelEnd + 1);
  r.buf.copy(tunnelMeta, 0, HEADER_BYTES, HEADER_BYTES + r.tunnelEnd);
  tunnelMeta[r.tunnelEnd] = 0x7d;
  return { frame: r.frame, tunnelMeta };
}

/**
 * The Request frame alone, as decodeFrame would return it, when it is in fabricRequestJson's form (the connector's
 * Request, whose metadata is the tunnel part of that text: the NATS-only fields are optional); else undefined.
 */
export function fastRequestFrame(input: Uint8Array): FrameOf<typeof FrameKind.Request> | undefined {
  return readRequest(input)?.frame;
}

/** The Request read from its bytes, and where its tunnel part of the metadata ends (offset in the metadata). */
function readRequest(input: Uint8Array): { frame: FrameOf<typeof FrameKind.Request>; buf: Buffer; tunnelEnd: number } | undefined {
  if (input.byteLength < HEADER_BYTES || input[0] !== FrameKind.Request) return undefined;
  const metaLen = readU32(input, META_LEN_OFFSET);
  const end = HEADER_BYTES + metaLen;
  if (metaLen > MAX_META_BYTES || end > input.byteLength) return undefined;
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  // One character per byte: offsets in `s` are offsets in the metadata, whatever the bytes (non-ASCII is refused below).
  const s = buf.toString('latin1', HEADER_BYTES, end);
  // The same bytes, scanned as bytes (a typed array load per character is cheaper than charCodeAt); `s` gives the strings.
  const m = buf.subarray(HEADER_BYTES, end);
  if (!literalAt(m, 0, m.length, K_RID)) return undefined;
  let i = 7;
  let j = stringEnd(m, i, m.length, CharClass.Id, 64);
  if (j < 0) return undefined;
  const rid = s.slice(i + 1, j - 1);
  i = j;
  let requestId: string | undefined;
  if (literalAt(m, i, m.length, K_REQUEST_ID_KEY)) {
    i += 13;
    j = stringEnd(m, i, m.length, CharClass.RequestId, 128, CharClass.Alnum);
    if (j < 0) return undefined;
    requestId = s.slice(i + 1, j - 1);
    i = j;
  }
  if (!literalAt(m, i, m.length, K_PROTOCOL)) return undefined;
  i += 12;
  j = stringEnd(m, i, m.length, CharClass.Text, 64);
  if (j < 0) return undefined;
  const protocol = s.slice(i + 1, j - 1);
  if (!isProtocol(protocol)) return undefined;
  i = j;
  if (!literalAt(m, i, m.length, K_MODEL)) return undefined;
  i += 9;
  j = stringEnd(m, i, m.length, CharClass.Text, 256);
  if (j < 0) return undefined;
  const model = s.slice(i + 1, j - 1);
  i = j;
  if (!literalAt(m, i, m.length, K_STREAM)) return undefined;
  i += 10;
  const stream = literalAt(m, i, m.length, K_TRUE);
  j = boolEnd(m, i, m.length);
  if (j < 0 || !literalAt(m, j, m.length, K_BODY_LENGTH)) return undefined;
  i = j + 14;
  j = intEnd(m, i, m.length);
  if (j < 0) return undefined;
  const bodyLength = scanned.int;
  if (!literalAt(m, j, m.length, K_DEADLINE)) return undefined;
  i = j + 12;
  j = intEnd(m, i, m.length);
  if (j < 0) return undefined;
  const deadline = scanned.int;
  if (deadline < 1) return undefined;
  i = j;
  const meta: RequestMeta = { rid, protocol, model, stream, bodyLength, deadline };
  if (requestId !== undefined) meta.requestId = requestId;
  if (literalAt(m, i, m.length, K_HEADERS)) {
    i += 12;
    const headers: Record<string, string> = {};
    if (m[i] === 0x7d) i++;
    else {
      for (;;) {
        j = stringEnd(m, i, m.length, CharClass.HeaderName, 64);
        // A header name is never `__proto__` (no `_`): assigning it sets an own property, as JSON.parse does.
        if (j < 0 || m[j] !== 0x3a) return undefined;
        const name = s.slice(i + 1, j - 1);
        i = j + 1;
        j = stringEnd(m, i, m.length, CharClass.Text, 1024);
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
  // Each field by its name (not `meta[name]` in a loop over them: one keyed store site for five names, megamorphic).
  j = fieldEnd(m, i, K_INGRESS_ID, false);
  if (j < 0) return undefined;
  if (j > i) meta.ingressId = s.slice(i + K_INGRESS_ID.length + 1, j - 1);
  i = j;
  j = fieldEnd(m, i, K_TENANT_ID, false);
  if (j < 0) return undefined;
  if (j > i) meta.tenantId = s.slice(i + K_TENANT_ID.length + 1, j - 1);
  i = j;
  j = fieldEnd(m, i, K_KEY_ID, false);
  if (j < 0) return undefined;
  if (j > i) meta.keyId = s.slice(i + K_KEY_ID.length + 1, j - 1);
  i = j;
  j = fieldEnd(m, i, K_BATCHES, true);
  if (j < 0) return undefined;
  if (j > i) meta.batches = literalAt(m, i + K_BATCHES.length, m.length, K_TRUE);
  i = j;
  j = fieldEnd(m, i, K_PAIR_HEARTBEATS, true);
  if (j < 0) return undefined;
  if (j > i) meta.pairHeartbeats = literalAt(m, i + K_PAIR_HEARTBEATS.length, m.length, K_TRUE);
  i = j;
  if (i + 1 !== m.length || m[i] !== 0x7d) return undefined;
  const frame: FrameOf<typeof FrameKind.Request> = { kind: FrameKind.Request, id: readU32(buf, ID_OFFSET), meta, payload: end === buf.length ? NO_PAYLOAD : buf.subarray(end) };
  return { frame, buf, tunnelEnd };
}

/**
 * The offset after the optional field `key` at `i` and its value (an id, or a boolean when `flag`): `i` itself when
 * the field is not there, -1 when its value is not one.
 */
function fieldEnd(m: Uint8Array, i: number, key: Uint8Array, flag: boolean): number {
  if (!literalAt(m, i, m.length, key)) return i;
  const v = i + key.length;
  return flag ? boolEnd(m, v, m.length) : stringEnd(m, v, m.length, CharClass.Id, 64);
}
