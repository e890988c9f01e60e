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
