import { FrameKind } from './kinds.js';
import type { AckMeta, EndMeta, HeadMeta, MetaOf } from './meta.js';
import { CharClass, asciiBytes, intEnd, literalAt, scanned, stringEnd } from './json-scan.js';

/*
 * The Ack, Head and End every request's answer carries, read straight from the frame's bytes: decoding them as UTF-8
 * text, JSON.parse and the fast checks (meta-fast.ts) cost ~0.5 µs a frame, three frames per request at the ingress.
 * Only the exact texts this codebase writes are read here (JSON.stringify's Ack, meta-json.ts's Head and End: no
 * whitespace, fields in the schema's order, ids of ID_PATTERN's characters, integers in JSON's own form, a content
 * type of printable ASCII without `"` or `\`), each field within its schema's bounds; the value returned is what
 * JSON.parse and the schema return for those bytes. Anything else — another order, whitespace, an escape, `ignored`,
 * an error, a number past 15 digits — returns undefined, and the frame is decoded as before (JSON.parse, fastMeta,
 * zod), which accepts it or refuses it with its own message. The protocol test compares both on hostile input.
 */

const ACK_TERMINATOR = asciiBytes('{"terminatorId":');
const ACK_CONNECTOR = asciiBytes(',"connectorId":');
const HEAD_STATUS = asciiBytes('{"status":');
const HEAD_TYPE = asciiBytes(',"contentType":');
const END_FRAMES = asciiBytes('{"frames":');
const END_INPUT = asciiBytes(',"usage":{"input_tokens":');
const END_OUTPUT = asciiBytes(',"output_tokens":');

const CLOSE_BRACE = 0x7d;
/** ID_PATTERN's bound (meta.ts). */
const MAX_ID = 64;
/** headMeta's contentType bound. */
const MAX_CONTENT_TYPE = 256;

/** The offset after `lit` when `buf` holds it at `off`, else -1. */
const after = (buf: Buffer, off: number, end: number, lit: Buffer): number => (literalAt(buf, off, end, lit) ? off + lit.length : -1);

/** Whether the metadata ends at `off` with `n` closing braces. */
function closes(buf: Buffer, off: number, end: number, n: number): boolean {
  if (off < 0 || off + n !== end) return false;
  for (let i = off; i < end; i++) if (buf[i] !== CLOSE_BRACE) return false;
  return true;
}

/** The last few strings read, so a repeated id or content type (the same connector, most answers) is not made again. */
const seen: string[] = ['', '', '', ''];
let seenNext = 0;

/** The string of the ASCII bytes [from, to): one seen before when the bytes match it, else a new one. */
function ascii(buf: Buffer, from: number, to: number): string {
  const n = to - from;
  outer: for (let s = 0; s < seen.length; s++) {
    const v = seen[s]!;
    if (v.length !== n) continue;
    for (let i = 0; i < n; i++) if (v.charCodeAt(i) !== buf[from + i]) continue outer;
    return v;
  }
  const v = buf.toString('latin1', from, to);
  seen[seenNext] = v;
  seenNext = (seenNext + 1) % seen.length;
  return v;
}

/** `{"terminatorId":"…","connectorId":"…"}` */
function scanAck(buf: Buffer, off: number, end: number): AckMeta | undefined {
  const t = after(buf, off, end, ACK_TERMINATOR);
  const tEnd = stringEnd(buf, t, end, CharClass.Id, MAX_ID);
  const c = after(buf, tEnd, end, ACK_CONNECTOR);
  const cEnd = stringEnd(buf, c, end, CharClass.Id, MAX_ID);
  if (!closes(buf, cEnd, end, 1)) return undefined;
  return { terminatorId: ascii(buf, t + 1, tEnd - 1), connectorId: ascii(buf, c + 1, cEnd - 1) };
}

/** `{"status":N,"contentType":"…"}` (a Head with `ignored` goes the slow way). */
function scanHead(buf: Buffer, off: number, end: number): HeadMeta | undefined {
  const s = intEnd(buf, after(buf, off, end, HEAD_STATUS), end);
  if (s < 0 || scanned.int < 200 || scanned.int > 599) return undefined;
  const status = scanned.int;
  const c = after(buf, s, end, HEAD_TYPE);
  const cEnd = stringEnd(buf, c, end, CharClass.Text, MAX_CONTENT_TYPE);
  if (!closes(buf, cEnd, end, 1)) return undefined;
  return { status, contentType: ascii(buf, c + 1, cEnd - 1) };
}

/** `{"frames":N}` or `{"frames":N,"usage":{"input_tokens":N,"output_tokens":N}}` (an End with an error goes the slow way). */
function scanEnd(buf: Buffer, off: number, end: number): EndMeta | undefined {
  const f = intEnd(buf, after(buf, off, end, END_FRAMES), end);
  if (f < 0) return undefined;
  const frames = scanned.int;
  if (closes(buf, f, end, 1)) return { frames };
  const i = intEnd(buf, after(buf, f, end, END_INPUT), end);
  if (i < 0) return undefined;
  const input = scanned.int;
  const o = intEnd(buf, after(buf, i, end, END_OUTPUT), end);
  if (!closes(buf, o, end, 2)) return undefined;
  return { frames, usage: { input_tokens: input, output_tokens: scanned.int } };
}

/**
 * The metadata in `buf[off, end)` when it is one of the exact texts above, as JSON.parse and the kind's schema would
 * return it; undefined for every other kind and text (decode it the usual way).
 */
export function scanMeta<K extends FrameKind>(kind: K, buf: Buffer, off: number, end: number): MetaOf<K> | undefined {
  // Each scanner returns its own kind's metadata: the pair is one member of MetaOf's union, as validateMeta's is.
  switch (kind) {
    case FrameKind.Ack:
      return scanAck(buf, off, end) as MetaOf<K> | undefined;
    case FrameKind.Head:
      return scanHead(buf, off, end) as MetaOf<K> | undefined;
    case FrameKind.End:
      return scanEnd(buf, off, end) as MetaOf<K> | undefined;
    default:
      return undefined;
  }
}
