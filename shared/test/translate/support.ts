import type { Test } from 'tap';
import type { DecoderOptions, UpstreamDecoder } from '../../src/translate/adapter.js';
import type { ChatEvent } from '../../src/translate/pivot.js';
import { chunkings } from '../codec/feed.js';

/** Deterministic ids and clock for golden vectors: `call_1`, `call_2`, `chatcmpl_3`… and t = 1700000000 s. */
export function fixedOptions(): Required<DecoderOptions> {
  let n = 0;
  return { newId: (prefix) => `${prefix}_${++n}`, now: () => 1_700_000_000_000 };
}

export function decodeAll(decoder: UpstreamDecoder, chunks: Array<Uint8Array | string>): ChatEvent[] {
  const out: ChatEvent[] = [];
  for (const c of chunks) out.push(...decoder.push(c));
  out.push(...decoder.end());
  return out;
}

/** Feeds `input` whole, byte by byte, in fixed sizes and split at every byte; all must give `expected`. */
export function sameForEveryChunking(t: Test, make: () => UpstreamDecoder, input: string, expected: ChatEvent[]): void {
  let failures = 0;
  for (const { name, chunks } of chunkings(input)) {
    const got = decodeAll(make(), chunks);
    // One assertion per chunking would flood the output; report the first mismatch in full.
    if (JSON.stringify(got) !== JSON.stringify(expected)) {
      if (failures++ === 0) t.strictSame(got, expected, `chunking ${name}`);
    }
  }
  t.equal(failures, 0, 'identical events for every chunking');
  if (failures === 0) t.strictSame(decodeAll(make(), [input]), expected);
}

/** `data: <json>\n\n` for each value; strings are sent verbatim. */
export function sse(...values: unknown[]): string {
  let s = '';
  for (const v of values) s += `data: ${typeof v === 'string' ? v : JSON.stringify(v)}\n\n`;
  return s;
}

export function ndjson(...values: unknown[]): string {
  let s = '';
  for (const v of values) s += (typeof v === 'string' ? v : JSON.stringify(v)) + '\n';
  return s;
}
