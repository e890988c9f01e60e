/** Splits a buffer into views of at most `max` bytes (no copies). */
export function* chunkBytes(buf: Uint8Array, max: number): Generator<Uint8Array> {
  if (max <= 0) throw new RangeError('chunk size must be positive');
  for (let off = 0; off < buf.byteLength; off += max) yield buf.subarray(off, Math.min(off + max, buf.byteLength));
}
