/** Test helper: the ways a byte stream can be cut into chunks. */
const enc = new TextEncoder();

export function utf8(text: string): Uint8Array {
  return enc.encode(text);
}

/** Named chunkings of `text`: whole, byte by byte, every 2-way split, and fixed sizes 3 and 7. */
export function chunkings(text: string): Array<{ name: string; chunks: Uint8Array[] }> {
  const bytes = utf8(text);
  const out: Array<{ name: string; chunks: Uint8Array[] }> = [{ name: 'whole', chunks: [bytes] }];
  const single: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i++) single.push(bytes.subarray(i, i + 1));
  out.push({ name: 'byte-by-byte', chunks: single });
  for (const size of [3, 7]) {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
    out.push({ name: `size-${size}`, chunks: parts });
  }
  for (let i = 1; i < bytes.length; i++) out.push({ name: `split@${i}`, chunks: [bytes.subarray(0, i), bytes.subarray(i)] });
  return out;
}
