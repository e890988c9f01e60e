import { FrameKind } from './kinds.js';
import { ProtocolError } from './errors.js';
import { HEADER_BYTES, ID_OFFSET, META_LEN_OFFSET } from './layout.js';

/**
 * PairHeartbeat: one message per (terminator, ingress) pair per heartbeat period, listing that ingress's silent
 * streams on this terminator with the answer frames (Head + Data) each has published — what a per-stream Heartbeat
 * says, for all of them at once. 5,000 streams at 1 token/s cost their pair 4 messages a second instead of ~15,000.
 * Sent only to an ingress whose Request says it reads them (`RequestMeta.pairHeartbeats`), on
 * `tokios.in.<ingress>.hb.<terminator>` (shared/src/subjects). The receiver is untrusted input to this codec: every
 * length, count and byte is checked, and a message with any fault is refused whole.
 *
 * Layout: a frame header (kind PairHeartbeat, id = number of entries, no metadata), then per entry
 * `u8 ridLength | rid (ASCII, [A-Za-z0-9_-]{1,64}) | u32 published`. A list too long for one NATS message is split
 * over several (encodePairHeartbeats), each one whole on its own.
 *
 * Rounds: a terminator sends one every period to every ingress it has live streams with, an empty one (no entries)
 * when none is silent, and marks the round's last message with the NATS header PAIR_ROUND_HEADER. An ingress that
 * has read a marked round judges that terminator's streams by the rounds it read (services/ingress/src/
 * terminator-watch.ts), not by wall-clock silence. Older ingresses ignore headers and decode an empty list.
 */
/** NATS header on the last message of a PairHeartbeat round (value PAIR_ROUND_END). */
export const PAIR_ROUND_HEADER = 'Tokios-Round';
export const PAIR_ROUND_END = 'end';

export interface StreamBeat {
  readonly rid: string;
  /** Answer frames (Head + Data) published so far: an ingress that has fewer asks for them (Resume). */
  readonly published: number;
}

/** Longest rid an entry may carry (the subject-token limit). */
export const MAX_BEAT_RID_BYTES = 64;
/** Entries one message may list (a receiver refuses more); a longer list is split. */
export const MAX_PAIR_HEARTBEAT_ENTRIES = 65_536;
const ENTRY_OVERHEAD = 1 + 4;

/** The bytes one entry takes. */
export function beatEntryBytes(rid: string): number {
  return ENTRY_OVERHEAD + rid.length;
}

/**
 * The PairHeartbeat messages for `beats`, each at most `maxBytes` (and MAX_PAIR_HEARTBEAT_ENTRIES entries) long; one
 * empty message for an empty list (a round with nothing silent still says the terminator reads and writes). Rids are the streams' own (already checked as subject tokens when their Request arrived).
 */
export function encodePairHeartbeats(beats: readonly StreamBeat[], maxBytes: number): Buffer[] {
  if (maxBytes < HEADER_BYTES + ENTRY_OVERHEAD + MAX_BEAT_RID_BYTES) throw new ProtocolError(`PairHeartbeat messages of ${maxBytes} bytes cannot hold an entry`);
  const out: Buffer[] = [];
  if (beats.length === 0) return [encodeRange(beats, 0, 0, HEADER_BYTES)];
  let start = 0;
  while (start < beats.length) {
    let end = start;
    let bytes = HEADER_BYTES;
    while (end < beats.length && end - start < MAX_PAIR_HEARTBEAT_ENTRIES) {
      const size = beatEntryBytes(beats[end]!.rid);
      if (bytes + size > maxBytes) break;
      bytes += size;
      end++;
    }
    out.push(encodeRange(beats, start, end, bytes));
    start = end;
  }
  return out;
}

function encodeRange(beats: readonly StreamBeat[], start: number, end: number, bytes: number): Buffer {
  const buf = Buffer.allocUnsafe(bytes);
  buf[0] = FrameKind.PairHeartbeat;
  buf.writeUInt32BE(end - start, ID_OFFSET);
  buf.writeUInt32BE(0, META_LEN_OFFSET);
  let off = HEADER_BYTES;
  for (let i = start; i < end; i++) {
    const { rid, published } = beats[i]!;
    if (!isRid(rid)) throw new ProtocolError('PairHeartbeat entry with an invalid rid');
    buf[off] = rid.length;
    buf.write(rid, off + 1, 'latin1');
    off += 1 + rid.length;
    buf.writeUInt32BE(published >>> 0, off);
    off += 4;
  }
  return buf;
}

/** The entries of one PairHeartbeat message; throws ProtocolError for anything malformed (nothing is taken from it). */
export function decodePairHeartbeat(buf: Buffer): StreamBeat[] {
  if (buf.length < HEADER_BYTES || buf[0] !== FrameKind.PairHeartbeat) throw new ProtocolError('not a PairHeartbeat message');
  if (buf.readUInt32BE(META_LEN_OFFSET) !== 0) throw new ProtocolError('PairHeartbeat messages carry no metadata');
  const count = buf.readUInt32BE(ID_OFFSET);
  if (count > MAX_PAIR_HEARTBEAT_ENTRIES) throw new ProtocolError(`PairHeartbeat of ${count} entries, over ${MAX_PAIR_HEARTBEAT_ENTRIES}`);
  if (count * (ENTRY_OVERHEAD + 1) > buf.length - HEADER_BYTES) throw new ProtocolError(`PairHeartbeat of ${buf.length} bytes cannot hold ${count} entries`);
  const beats: StreamBeat[] = [];
  let off = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (off >= buf.length) throw new ProtocolError(`PairHeartbeat ends after ${i} of ${count} entries`);
    const len = buf[off]!;
    const ridEnd = off + 1 + len;
    if (len === 0 || len > MAX_BEAT_RID_BYTES) throw new ProtocolError(`PairHeartbeat entry with a rid of ${len} bytes`);
    if (ridEnd + 4 > buf.length) throw new ProtocolError('PairHeartbeat entry runs past the end of the message');
    for (let j = off + 1; j < ridEnd; j++) if (!isRidByte(buf[j]!)) throw new ProtocolError('PairHeartbeat entry with an invalid rid');
    beats.push({ rid: buf.toString('latin1', off + 1, ridEnd), published: buf.readUInt32BE(ridEnd) });
    off = ridEnd + 4;
  }
  if (off !== buf.length) throw new ProtocolError(`PairHeartbeat has ${buf.length - off} bytes after its ${count} entries`);
  return beats;
}

/** [A-Za-z0-9_-]: the subject-token alphabet, so a rid from here can name a subject and a map key. */
function isRidByte(b: number): boolean {
  return (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b === 0x5f || b === 0x2d;
}

function isRid(rid: string): boolean {
  if (rid.length === 0 || rid.length > MAX_BEAT_RID_BYTES) return false;
  for (let i = 0; i < rid.length; i++) if (!isRidByte(rid.charCodeAt(i))) return false;
  return true;
}
