import { FrameKind } from './kinds.js';
import type { AckMeta, EndMeta, HeadMeta, MetaOf } from './meta.js';

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

/** The UTF-8 (here ASCII) bytes of a literal. */
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

const ACK_TERMINATOR = bytes('{"terminatorId":"');
const ACK_CONNECTOR = bytes('","connectorId":"');
const HEAD_STATUS = bytes('{"status":');
const HEAD_TYPE = bytes(',"contentType":"');
const END_FRAMES = bytes('{"frames":');
const END_INPUT = bytes(',"usage":{"input_tokens":');
const END_OUTPUT = bytes(',"output_tokens":');

const QUOTE = 0x22;
const CLOSE_BRACE = 0x7d;
/** At most this many digits: every such integer is safe (below 2^53), as the schemas' integers must be. */
const MAX_DIGITS = 15;
/** ID_PATTERN's bound (meta.ts). */
const MAX_ID = 64;
/** headMeta's contentType bound. */
const MAX_CONTENT_TYPE = 256;

/** The offset after `lit` when `buf` holds it at `off`, else -1. */
function literal(buf: Buffer, off: number, end: number, lit: Buffer): number {
  const n = lit.length;
  if (off < 0 || off + n > end) return -1;
  for (let i = 0; i < n; i++) if (buf[off + i] !== lit[i]) return -1;
  return off + n;
}

/** Where a scan stopped and what it read (one object reused: the scan is synchronous and never reentrant). */
const at = { off: 0, int: 0 };

/** A JSON integer at `off` (no sign, no leading zero, at most MAX_DIGITS digits): true and `at` set, else false. */
function integer(buf: Buffer, off: number, end: number): boolean {
  let i = off;
  let v = 0;
  while (i < end) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) break;
    v = v * 10 + (c - 0x30);
    i++;
  }
  const n = i - off;
  if (n === 0 || n > MAX_DIGITS || (n > 1 && buf[off] === 0x30)) return false;
  at.off = i;
  at.int = v;
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

/** An ID_PATTERN id (`[A-Za-z0-9_-]{1,64}`) closed by `"` at `off`: its end (the quote's offset), else -1. */
function idEnd(buf: Buffer, off: number, end: number): number {
  let i = off;
  while (i < end) {
    const c = buf[i]!;
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d) i++;
    else break;
  }
  const n = i - off;
  return n >= 1 && n <= MAX_ID && i < end && buf[i] === QUOTE ? i : -1;
}

/** Printable ASCII without `"` or `\` (a JSON string without escapes), up to `max`, closed by `"`: its end, else -1. */
function plainTextEnd(buf: Buffer, off: number, end: number, max: number): number {
  let i = off;
  while (i < end) {
    const c = buf[i]!;
    if (c >= 0x20 && c <= 0x7e && c !== QUOTE && c !== 0x5c) i++;
    else break;
  }
  return i - off <= max && i < end && buf[i] === QUOTE ? i : -1;
}

/** `{"terminatorId":"…","connectorId":"…"}` */
function scanAck(buf: Buffer, off: number, end: number): AckMeta | undefined {
  const t = literal(buf, off, end, ACK_TERMINATOR);
  const tEnd = t < 0 ? -1 : idEnd(buf, t, end);
  const c = tEnd < 0 ? -1 : literal(buf, tEnd, end, ACK_CONNECTOR);
  const cEnd = c < 0 ? -1 : idEnd(buf, c, end);
  if (cEnd < 0 || cEnd + 2 !== end || buf[cEnd + 1] !== CLOSE_BRACE) return undefined;
  return { terminatorId: ascii(buf, t, tEnd), connectorId: ascii(buf, c, cEnd) };
}

/** `{"status":N,"contentType":"…"}` (a Head with `ignored` goes the slow way). */
function scanHead(buf: Buffer, off: number, end: number): HeadMeta | undefined {
  const s = literal(buf, off, end, HEAD_STATUS);
  if (s < 0 || !integer(buf, s, end) || at.int < 200 || at.int > 599) return undefined;
  const status = at.int;
  const c = literal(buf, at.off, end, HEAD_TYPE);
  const cEnd = c < 0 ? -1 : plainTextEnd(buf, c, end, MAX_CONTENT_TYPE);
  if (cEnd < 0 || cEnd + 2 !== end || buf[cEnd + 1] !== CLOSE_BRACE) return undefined;
  return { status, contentType: ascii(buf, c, cEnd) };
}

/** `{"frames":N}` or `{"frames":N,"usage":{"input_tokens":N,"output_tokens":N}}` (an End with an error goes the slow way). */
function scanEnd(buf: Buffer, off: number, end: number): EndMeta | undefined {
  const f = literal(buf, off, end, END_FRAMES);
  if (f < 0 || !integer(buf, f, end)) return undefined;
  const frames = at.int;
  if (at.off + 1 === end) return buf[at.off] === CLOSE_BRACE ? { frames } : undefined;
  const i = literal(buf, at.off, end, END_INPUT);
  if (i < 0 || !integer(buf, i, end)) return undefined;
  const input = at.int;
  const o = literal(buf, at.off, end, END_OUTPUT);
  if (o < 0 || !integer(buf, o, end)) return undefined;
  if (at.off + 2 !== end || buf[at.off] !== CLOSE_BRACE || buf[at.off + 1] !== CLOSE_BRACE) return undefined;
  return { frames, usage: { input_tokens: input, output_tokens: at.int } };
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
