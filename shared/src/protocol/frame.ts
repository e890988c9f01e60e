import { FrameKind, frameKindName, isFrameKind } from './kinds.js';
import { ProtocolError } from './errors.js';
import { HEADER_BYTES, ID_OFFSET, MAX_META_BYTES, META_LEN_OFFSET } from './layout.js';
import { validateMeta, type MetaOf } from './meta.js';
import { fastMeta } from './meta-fast.js';

export { HEADER_BYTES, MAX_META_BYTES } from './layout.js';

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

/** Encodes a frame; `meta` is typed by kind (kinds without metadata take none). */
export function encodeFrame<K extends FrameKind>(kind: K, id: number, meta?: MetaOf<K>, payload?: Uint8Array): Buffer {
  return encodeWithMeta(kind, id, encodeMeta(kind, meta), payload);
}

/** JSON metadata as bytes, refused when over MAX_META_BYTES. */
export function encodeMeta(kind: FrameKind, meta: unknown): Buffer | undefined {
  if (meta === undefined) return undefined;
  const buf = Buffer.from(JSON.stringify(meta), 'utf8');
  if (buf.length > MAX_META_BYTES) throw new ProtocolError(`${frameKindName(kind)} metadata is ${buf.length} bytes, over ${MAX_META_BYTES}`);
  return buf;
}

/** Encodes a frame around metadata already encoded by encodeMeta (one encoding for several frames). */
export function encodeWithMeta(kind: FrameKind, id: number, metaBuf: Buffer | undefined, payload?: Uint8Array): Buffer {
  const metaLen = metaBuf?.length ?? 0;
  const payloadLen = payload?.byteLength ?? 0;
  const out = Buffer.allocUnsafe(HEADER_BYTES + metaLen + payloadLen);
  out.writeUInt8(kind, 0);
  out.writeUInt32BE(id >>> 0, ID_OFFSET);
  out.writeUInt32BE(metaLen, META_LEN_OFFSET);
  if (metaBuf) metaBuf.copy(out, HEADER_BYTES);
  if (payload && payloadLen > 0) out.set(payload, HEADER_BYTES + metaLen);
  return out;
}

/** A Data frame whose payload is the concatenation of `parts`: one allocation, one copy per part. */
export function encodeDataFrame(id: number, parts: readonly Uint8Array[], total = parts.reduce((n, p) => n + p.byteLength, 0)): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + total);
  out[0] = FrameKind.Data;
  out.writeUInt32BE(id >>> 0, ID_OFFSET);
  out.writeUInt32BE(0, META_LEN_OFFSET);
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
  new DataView(frame.buffer, frame.byteOffset, frame.byteLength).setUint32(ID_OFFSET, id >>> 0);
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
  if (frame.length < HEADER_BYTES) throw new ProtocolError(`Data frame of ${frame.length} bytes is shorter than its header`);
  if (frame.readUInt32BE(META_LEN_OFFSET) !== 0) throw new ProtocolError('Data frames carry no metadata');
  return frame.readUInt32BE(ID_OFFSET);
}

/** The payload of an encoded Data frame (a view, no copy); call dataFrameId first to check the header. */
export function dataPayload(frame: Buffer): Buffer {
  return frame.subarray(HEADER_BYTES);
}

/** Decodes a frame and validates its metadata against its kind; throws ProtocolError for anything malformed. */
export function decodeFrame(input: Uint8Array): Frame {
  if (input.byteLength < HEADER_BYTES) throw new ProtocolError(`frame of ${input.byteLength} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const kind = buf.readUInt8(0);
  if (!isFrameKind(kind)) throw new ProtocolError(`unknown frame kind ${kind}`);
  const id = buf.readUInt32BE(ID_OFFSET);
  const metaLen = buf.readUInt32BE(META_LEN_OFFSET);
  if (metaLen > MAX_META_BYTES) throw new ProtocolError(`metadata length ${metaLen} is over ${MAX_META_BYTES}`);
  if (HEADER_BYTES + metaLen > buf.length) throw new ProtocolError(`metadata length ${metaLen} runs past the end of a ${buf.length}-byte frame`);
  let json: unknown;
  if (metaLen > 0) {
    try {
      json = JSON.parse(buf.toString('utf8', HEADER_BYTES, HEADER_BYTES + metaLen));
    } catch (cause) {
      throw new ProtocolError(`${frameKindName(kind)} metadata is not valid JSON`, { cause, frame: { kind, id } });
    }
  }
  // The kind was checked above and the metadata validated against that kind: the pair is one member of the union.
  const meta = fastMeta(kind, json) ?? validateMeta(kind, json, id);
  return { kind, id, meta, payload: buf.subarray(HEADER_BYTES + metaLen) } as Frame;
}
