import type { z } from 'zod';

/**
 * The decoding every replica-to-replica broadcast of the ingress shares (quota deltas, session homes): a size bound
 * before the parse, the envelope checked whole, then its list entry by entry, so one bad entry is skipped and counted
 * rather than costing the whole message.
 */
export interface DecodedBroadcast<M, E> {
  message: M;
  entries: E[];
  skipped: number;
}

/** undefined when oversized, not JSON or not an envelope of `envelope`'s shape. */
export function decodeBroadcast<M, E>(
  data: Uint8Array,
  maxBytes: number,
  envelope: z.ZodType<M>,
  listOf: (m: M) => readonly unknown[],
  entry: z.ZodType<E>,
): DecodedBroadcast<M, E> | undefined {
  if (data.length > maxBytes) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  const r = envelope.safeParse(json);
  if (!r.success) return undefined;
  const entries: E[] = [];
  let skipped = 0;
  for (const e of listOf(r.data)) {
    const one = entry.safeParse(e);
    if (one.success) entries.push(one.data);
    else skipped++;
  }
  return { message: r.data, entries, skipped };
}
