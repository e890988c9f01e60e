/**
 * Binary frame layout (big endian):
 *   u8  kind
 *   u32 id        stream id on the tunnel; sequence number on NATS
 *   u32 metaLen   length of the JSON metadata that follows (0 = none)
 *   ... meta      UTF-8 JSON, validated per kind by meta.ts
 *   ... payload   raw bytes (request body part, response bytes)
 */
export const HEADER_BYTES = 9;
/** Offset of the u32 id in the header. */
export const ID_OFFSET = 1;
/** Offset of the u32 metadata length in the header. */
export const META_LEN_OFFSET = 5;
export const MAX_META_BYTES = 64 * 1024;

/*
 * Big-endian u32 at `off`, byte by byte. Buffer's readUInt32BE/writeUInt32BE validate their arguments on every call and
 * are a property lookup on a Buffer-or-Uint8Array receiver; the codec reads and writes several per frame on the hot path
 * and checks the frame's length itself before reading, so it uses these instead.
 */
export function readU32(b: Uint8Array, off: number): number {
  return b[off]! * 0x1000000 + ((b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!);
}

export function writeU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = v >>> 16;
  b[off + 2] = v >>> 8;
  b[off + 3] = v;
}
