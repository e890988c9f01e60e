import { FrameKind, frameKindName, isFrameKind } from './kinds.js';
import { ProtocolError } from './errors.js';
import { HEADER_BYTES, ID_OFFSET, MAX_META_BYTES, META_LEN_OFFSET, readU32, writeU32 } from './layout.js';
import { validateMeta, type MetaOf } from './meta.js';
import { fastMeta } from './meta-fast.js';
import { scanMeta } from './meta-scan.js';

export { HEADER_BYTES, MAX_META_BYTES, readU32, writeU32 } from './layout.js';

/** A decoded frame of kind K, its metadata validated against K's schema. */
export interface FrameOf<K extends FrameKind> {
  readonly kind: K;
  readonly id: number;
  readonly meta: MetaOf<K>;
  /** A view into the decoded buffer (no copy): copy it to keep it past the buffer's reuse. */
  readonly payload: Buffer;
}

/** Any decoded frame: `switch (frame.kind)` narrows `meta` to that kind's metadata. */
export type Frame = { [K in FrameKind]: FrameOf<K> }[FrameKind];

/**
 * Encodes a frame; `meta` is typed by kind (kinds without metadata take none). The JSON is written straight into the
 * frame (one buffer per frame, not one for the metadata and another to copy it into): every Ack, End and control
 * frame is encoded this way, per request.
 */
export function encodeFrame<K extends FrameKind>(kind: K, id: number, meta?: MetaOf<K>, payload?: Uint8Array): Buffer {
  if (meta === undefined) return encodeWithMeta(kind, id, undefined, payload);
  const json = JSON.stringify(meta);
  return encodeWithJson(kind, id, json, metaBytes(kind, json), payload);
}

/** JSON metadata as bytes, refused when over MAX_META_BYTES. */
export function encodeMeta(kind: FrameKind, meta: unknown): Buffer | undefined {
  if (meta === undefined) return undefined;
  const json = JSON.stringify(meta);
  metaBytes(kind, json);
  return Buffer.from(json, 'utf8');
}

/** The UTF-8 length of a metadata JSON text, refused when over MAX_META_BYTES. */
export function metaBytes(kind: FrameKind, json: string): number {
  const n = Buffer.byteLength(json, 'utf8');
  if (n > MAX_META_BYTES) throw new ProtocolError(`${frameKindName(kind)} metadata is ${n} bytes, over ${MAX_META_BYTES}`);
  return n;
}

/** Encodes a frame around metadata already encoded by encodeMeta (one encoding for several frames). */
export function encodeWithMeta(kind: FrameKind, id: number, metaBuf: Buffer | undefined, payload?: Uint8Array): Buffer {
  const metaLen = metaBuf?.length ?? 0;
  const out = frameBuffer(kind, id, metaLen, payload);
  if (metaBuf) out.set(metaBuf, HEADER_BYTES);
  return out;
}

/** Encodes a frame around metadata JSON text of `metaLen` UTF-8 bytes (metaBytes), written in place. */
export function encodeWithJson(kind: FrameKind, id: number, json: string, metaLen: number, payload?: Uint8Array): Buffer {
  const out = frameBuffer(kind, id, metaLen, payload);
  out.write(json, HEADER_BYTES, metaLen, 'utf8');
  return out;
}

/**
 * Writes a frame's header (kind, id, metadata length) at `off` of `out`: for a caller that writes the frame into a
 * buffer of its own (the connector's one message per stream and turn); the metadata and payload follow at
 * `off + HEADER_BYTES`.
 */
export function writeFrameHeader(out: Uint8Array, off: number, kind: FrameKind, id: number, metaLen: number): void {
  out[off] = kind;
  writeU32(out, off + ID_OFFSET, id);
  writeU32(out, off + META_LEN_OFFSET, metaLen);
}

/** A frame's buffer with its header and payload in place, room left for `metaLen` bytes of metadata. */
function frameBuffer(kind: FrameKind, id: number, metaLen: number, payload: Uint8Array | undefined): Buffer {
  const payloadLen = payload?.byteLength ?? 0;
  const out = Buffer.allocUnsafe(HEADER_BYTES + metaLen + payloadLen);
  writeFrameHeader(out, 0, kind, id, metaLen);
  if (payload && payloadLen > 0) out.set(payload, HEADER_BYTES + metaLen);
  return out;
}

/** A Data frame whose payload is the concatenation of `parts`: one allocation, one copy per part. */
export function encodeDataFrame(id: number, parts: readonly Uint8Array[], total = parts.reduce((n, p) => n + p.byteLength, 0)): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + total);
  writeFrameHeader(out, 0, FrameKind.Data, id, 0);
  let off = HEADER_BYTES;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

/** Rewrites the id of an encoded frame in place (terminator relays a tunnel DATA frame to NATS with a sequence number). */
export function setFrameId(frame: Uint8Array, id: number): void {
  if (frame.byteLength < HEADER_BYTES) throw new ProtocolError('frame shorter than its header');
  // Byte by byte: a DataView costs a view object and the typed array's `.buffer` (a slow getter), per Data frame.
  writeU32(frame, ID_OFFSET, id);
}

/** The kind byte of an encoded frame, without decoding it (-1 for an empty buffer). */
export function peekKind(frame: Uint8Array): number {
  return frame.byteLength > 0 ? frame[0]! : -1;
}

/**
 * The id of an encoded Data frame, read without decoding it: the hot path relays and checks Data frames by their
 * header alone. Refuses a frame shorter than its header, or one that carries metadata (Data carries none).
 */
export function dataFrameId(frame: Buffer): number {
  return dataFrameIdIn(frame, 0, frame.length);
}

/** dataFrameId of the Data frame in `buf[start, end)` (a Batch entry), without a view of it. */
export function dataFrameIdIn(buf: Buffer, start: number, end: number): number {
  if (end - start < HEADER_BYTES) throw new ProtocolError(`Data frame of ${end - start} bytes is shorter than its header`);
  if (readU32(buf, start + META_LEN_OFFSET) !== 0) throw new ProtocolError('Data frames carry no metadata');
  return readU32(buf, start + ID_OFFSET);
}

/** The payload of an encoded Data frame (a view, no copy); call dataFrameId first to check the header. */
export function dataPayload(frame: Buffer): Buffer {
  return frame.subarray(HEADER_BYTES);
}

/** dataPayload of the Data frame in `buf[start, end)` (a view of `buf`); call dataFrameIdIn first. */
export function dataPayloadIn(buf: Buffer, start: number, end: number): Buffer {
  return buf.subarray(start + HEADER_BYTES, end);
}

/** The payload of every decoded frame that has none (zero bytes: nothing can be written into it). */
const NO_PAYLOAD = Buffer.alloc(0);

/** A frame's metadata through JSON.parse, validated against its kind's schema (fastMeta, else zod). */
function parsedMeta<K extends FrameKind>(kind: K, id: number, buf: Buffer, metaStart: number, metaLen: number): MetaOf<K> {
  let json: unknown;
  if (metaLen > 0) {
    try {
      json = JSON.parse(buf.toString('utf8', metaStart, metaStart + metaLen));
    } catch (cause) {
      throw new ProtocolError(`${frameKindName(kind)} metadata is not valid JSON`, { cause, frame: { kind, id } });
    }
  }
  return fastMeta(kind, json) ?? validateMeta(kind, json, id);
}

/** Decodes a frame and validates its metadata against its kind; throws ProtocolError for anything malformed. */
export function decodeFrame(input: Uint8Array): Frame {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  return decodeFrameIn(buf, 0, buf.length);
}

/**
 * decodeFrame of the frame in `buf[start, end)` (a Batch entry, batchFrameBounds), without a view of it: the same
 * checks, messages and result (the payload a view of `buf`, or the shared empty one).
 */
export function decodeFrameIn(buf: Buffer, start: number, end: number): Frame {
  const size = end - start;
  if (size < HEADER_BYTES) throw new ProtocolError(`frame of ${size} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  const kind = buf[start]!;
  if (!isFrameKind(kind)) throw new ProtocolError(`unknown frame kind ${kind}`);
  const id = readU32(buf, start + ID_OFFSET);
  const metaLen = readU32(buf, start + META_LEN_OFFSET);
  if (metaLen > MAX_META_BYTES) throw new ProtocolError(`metadata length ${metaLen} is over ${MAX_META_BYTES}`);
  if (HEADER_BYTES + metaLen > size) throw new ProtocolError(`metadata length ${metaLen} runs past the end of a ${size}-byte frame`);
  const metaStart = start + HEADER_BYTES;
  const metaEnd = metaStart + metaLen;
  // The answer's Ack, Head and End as this codebase writes them, read from the bytes (meta-scan.ts); else parsed.
  const meta = (metaLen > 0 ? scanMeta(kind, buf, metaStart, metaEnd) : undefined) ?? parsedMeta(kind, id, buf, metaStart, metaLen);
  // The kind was checked above and the metadata validated against that kind: the pair is one member of the union.
  // Most frames with metadata carry no payload (Ack, Head, End, control): they share one empty buffer, not a view each.
  return { kind, id, meta, payload: metaEnd === end ? NO_PAYLOAD : buf.subarray(metaEnd, end) } as Frame;
}
