import { FrameKind, frameKindName, isFrameKind } from './kinds.js';
import { ProtocolError } from './errors.js';

/**
 * Binary frame layout (big endian):
 *   u8  kind
 *   u32 id        stream id on the tunnel; sequence number on NATS
 *   u32 metaLen   length of the JSON metadata that follows (0 = none)
 *   ... meta      UTF-8 JSON, validated per kind by meta.ts
 *   ... payload   raw bytes (request body part, response bytes)
 */
export const HEADER_BYTES = 9;
export const MAX_META_BYTES = 64 * 1024;

export interface RawFrame {
  kind: FrameKind;
  id: number;
  /** Parsed JSON metadata, not yet validated (see parseMeta). */
  meta: unknown;
  payload: Buffer;
}

export function encodeFrame(kind: FrameKind, id: number, meta?: unknown, payload?: Uint8Array): Buffer {
  const metaBuf = meta === undefined ? undefined : Buffer.from(JSON.stringify(meta), 'utf8');
  const metaLen = metaBuf?.length ?? 0;
  if (metaLen > MAX_META_BYTES) throw new ProtocolError(`${frameKindName(kind)} metadata is ${metaLen} bytes, over ${MAX_META_BYTES}`);
  const payloadLen = payload?.byteLength ?? 0;
  const out = Buffer.allocUnsafe(HEADER_BYTES + metaLen + payloadLen);
  out.writeUInt8(kind, 0);
  out.writeUInt32BE(id >>> 0, 1);
  out.writeUInt32BE(metaLen, 5);
  if (metaBuf) metaBuf.copy(out, HEADER_BYTES);
  if (payload && payloadLen > 0) out.set(payload, HEADER_BYTES + metaLen);
  return out;
}

/** A Data frame whose payload is the concatenation of `parts`: one allocation, one copy per part. */
export function encodeDataFrame(id: number, parts: readonly Uint8Array[], total = parts.reduce((n, p) => n + p.byteLength, 0)): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + total);
  out[0] = FrameKind.Data;
  out.writeUInt32BE(id >>> 0, 1);
  out.writeUInt32BE(0, 5);
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
  new DataView(frame.buffer, frame.byteOffset, frame.byteLength).setUint32(1, id >>> 0);
}

export function peekKind(frame: Uint8Array): number {
  return frame.byteLength > 0 ? frame[0]! : -1;
}

export function decodeFrame(input: Uint8Array): RawFrame {
  if (input.byteLength < HEADER_BYTES) throw new ProtocolError(`frame of ${input.byteLength} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const kind = buf.readUInt8(0);
  if (!isFrameKind(kind)) throw new ProtocolError(`unknown frame kind ${kind}`);
  const id = buf.readUInt32BE(1);
  const metaLen = buf.readUInt32BE(5);
  if (metaLen > MAX_META_BYTES) throw new ProtocolError(`metadata length ${metaLen} is over ${MAX_META_BYTES}`);
  if (HEADER_BYTES + metaLen > buf.length) throw new ProtocolError(`metadata length ${metaLen} runs past the end of a ${buf.length}-byte frame`);
  let meta: unknown;
  if (metaLen > 0) {
    try {
      meta = JSON.parse(buf.toString('utf8', HEADER_BYTES, HEADER_BYTES + metaLen));
    } catch (cause) {
      throw new ProtocolError(`${frameKindName(kind)} metadata is not valid JSON`, { cause });
    }
  }
  return { kind, id, meta, payload: buf.subarray(HEADER_BYTES + metaLen) };
}
