import { readU32, writeBatch, writeU32 } from '@tokios/shared/protocol';
import { EndedStream } from './ended-stream.js';
import type { ReplayParts } from './replay.js';

/** Bytes per archive chunk (a record larger than that gets a chunk of its own). */
const CHUNK_BYTES = 1 << 19;
/** Chunk numbers wrap at this: a position (chunk number × CHUNK_BYTES + offset) stays a small integer. */
const CHUNK_NUMBERS = 2048;
/** Record flags beside the log's (ack 1, head 2, final 4): the control subject is written out (not prefix + rid). */
const OWN_CONTROL = 8;

interface Chunk {
  readonly buf: Buffer;
  used: number;
  /** Sequence number of the chunk (positions carry it modulo CHUNK_NUMBERS). */
  readonly seq: number;
  /** When its newest record ended (ms). */
  last: number;
}

/**
 * The streams that ended in the last REPLAY_KEEP_MS, as bytes: each record (end time, inbox, flags, control subject
 * when it is not the archive's prefix + rid, packed Ack and answer log, ReplayLog.pack's layout) is appended to a
 * large chunk, and a map holds where each rid's record starts. At thousands of
 * requests per second that is tens of thousands of streams kept at any time; as objects (even a few per stream) they
 * made the garbage collector's work per request larger than all the rest of the relay's. Here a stream costs the
 * heap its rid and a map slot; chunks are dropped whole once everything in them is older than the window.
 * Resumes and reconnects (rare) read a record back as an EndedStream.
 */
export class EndedArchive {
  /** rid → position of its record, oldest first (a rid archived again moves to the end). */
  private readonly index = new Map<string, number>();
  private readonly chunks: Chunk[] = [];
  private nextSeq = 0;

  constructor(
    /** The control subject of a stream is this and its rid (the intake's): such a record does not repeat it. */
    private readonly controlPrefix = '',
  ) {}

  get size(): number {
    return this.index.size;
  }

  /**
   * Keeps a stream that just ended: its subjects and its log with its Ack (written straight into the chunk). With
   * `batch`, returns the log as written: a Batch message of its frames (batch.ts), a view into the chunk, whose
   * bytes are never written again.
   */
  add(rid: string, reply: string, control: string, at: number, p: ReplayParts, batch = false): Buffer | undefined {
    const ownControl = !this.isPrefixed(control, rid);
    // UTF-8 takes at most 3 bytes per UTF-16 unit: an upper bound, so the subjects are measured only as written.
    const len = 8 + 2 + 3 * reply.length + 1 + (ownControl ? 2 + 3 * control.length : 0) + 4 + 4 + 4 + p.bytes;
    const chunk = this.room(len, at);
    const b = chunk.buf;
    const start = chunk.used;
    let off = b.writeDoubleBE(at, start);
    off = writeText(b, off, reply);
    b[off++] = (p.ack ? 1 : 0) | (p.head ? 2 : 0) | (p.final ? 4 : 0) | (ownControl ? OWN_CONTROL : 0);
    if (ownControl) off = writeText(b, off, control);
    writeU32(b, off, p.firstSeq);
    writeU32(b, off + 4, p.sent);
    writeU32(b, off + 8, p.bytes);
    const batchStart = off + 12;
    chunk.used = writeBatch(b, batchStart, p.frames);
    const pos = (chunk.seq % CHUNK_NUMBERS) * CHUNK_BYTES + start;
    const size = this.index.size;
    this.index.set(rid, pos);
    // A rid archived again (rare: a Request delivered again after its stream ended) moves to the end, where prune
    // expects its new time; a new rid is one map lookup, not a delete and a set.
    if (this.index.size === size) {
      this.index.delete(rid);
      this.index.set(rid, pos);
    }
    return batch ? b.subarray(batchStart, chunk.used) : undefined;
  }

  /** Whether `control` is controlPrefix + rid, compared without building that string. */
  private isPrefixed(control: string, rid: string): boolean {
    return control.length === this.controlPrefix.length + rid.length && control.startsWith(this.controlPrefix) && control.endsWith(rid);
  }

  get(rid: string): EndedStream | undefined {
    const pos = this.index.get(rid);
    return pos === undefined ? undefined : this.read(rid, pos);
  }

  /** Every stream kept, oldest first. */
  *all(): IterableIterator<EndedStream> {
    for (const [rid, pos] of this.index) {
      const e = this.read(rid, pos);
      if (e) yield e;
    }
  }

  /** Forgets what ended before `before` (ms). */
  prune(before: number): void {
    for (const [rid, pos] of this.index) {
      const chunk = this.chunkOf(pos);
      if (chunk && chunk.buf.readDoubleBE(pos % CHUNK_BYTES) >= before) break;
      this.index.delete(rid);
    }
    while (this.chunks.length > 0 && this.chunks[0]!.last < before) this.chunks.shift();
  }

  /** The chunk a record of `len` bytes goes into (a new one when the current one is full). */
  private room(len: number, at: number): Chunk {
    let chunk = this.chunks[this.chunks.length - 1];
    if (!chunk || chunk.used + len > CHUNK_BYTES) {
      // Positions name a chunk modulo CHUNK_NUMBERS: never that many alive (a GB of records; the oldest goes first).
      if (this.chunks.length >= CHUNK_NUMBERS - 1) this.chunks.shift();
      chunk = { buf: Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, len)), used: 0, seq: this.nextSeq++, last: at };
      this.chunks.push(chunk);
    }
    // Every record of a chunk ended at or before its `last`, even if the clock stepped back.
    chunk.last = Math.max(chunk.last, at);
    return chunk;
  }

  /** The chunk a record's position is in; undefined when it is gone (dropped by a clock step back, or a full archive). */
  private chunkOf(pos: number): Chunk | undefined {
    const first = this.chunks[0];
    if (!first) return undefined;
    const n = Math.floor(pos / CHUNK_BYTES);
    const chunk = this.chunks[(n - (first.seq % CHUNK_NUMBERS) + CHUNK_NUMBERS) % CHUNK_NUMBERS];
    return chunk && chunk.seq % CHUNK_NUMBERS === n ? chunk : undefined;
  }

  private read(rid: string, pos: number): EndedStream | undefined {
    const chunk = this.chunkOf(pos);
    if (!chunk) return undefined;
    const b = chunk.buf;
    let off = pos % CHUNK_BYTES;
    const at = b.readDoubleBE(off);
    off += 8;
    const reply = readText(b, off);
    off += 2 + reply.bytes;
    const flags = b[off++]!;
    let control = this.controlPrefix + rid;
    if ((flags & OWN_CONTROL) !== 0) {
      const own = readText(b, off);
      off += 2 + own.bytes;
      control = own.text;
    }
    const firstSeq = readU32(b, off);
    const sent = readU32(b, off + 4);
    const framesLen = readU32(b, off + 8);
    off += 12;
    const frames = b.subarray(off, off + framesLen);
    return new EndedStream(rid, reply.text, control, { frames, ack: (flags & 1) !== 0, head: (flags & 2) !== 0, final: (flags & 4) !== 0, firstSeq, sent }, at);
  }
}

/**
 * `text` as UTF-8 after its u16 length. Subjects are ASCII: written a character a byte here (Buffer.write is a call
 * into C++ that measures and copies the string, once per request); anything else is left to it from where ASCII ends.
 */
function writeText(b: Buffer, off: number, text: string): number {
  const len = text.length;
  let n = 0;
  for (; n < len; n++) {
    const c = text.charCodeAt(n);
    if (c >= 0x80) break;
    b[off + 2 + n] = c;
  }
  if (n < len) n += b.write(text.slice(n), off + 2 + n, 'utf8');
  b[off] = n >>> 8;
  b[off + 1] = n & 0xff;
  return off + 2 + n;
}

function readText(b: Buffer, off: number): { text: string; bytes: number } {
  const bytes = (b[off]! << 8) | b[off + 1]!;
  return { text: b.toString('utf8', off + 2, off + 2 + bytes), bytes };
}
