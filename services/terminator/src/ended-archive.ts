import { readU32, writeBatch, writeU32 } from '@tokios/shared/protocol';
import { EndedStream } from './ended-stream.js';
import type { ReplayParts } from './replay.js';

/** Bytes per archive chunk (a record larger than that gets a chunk of its own). */
const CHUNK_BYTES = 1 << 19;
/** Chunks alive at most (a GB of records; the oldest goes first when a new one would be more). */
const MAX_CHUNKS = 2047;
/** Hash buckets of the index: a power of two (chains stay short at tens of thousands of records). */
const BUCKETS = 1 << 15;
/** Record flags beside the log's (ack 1, head 2, final 4): the control subject is written out (not prefix + rid). */
const OWN_CONTROL = 8;
/** Bytes before a record's texts: its end time and the position of the previous record in its bucket (f64 each). */
const RECORD_HEAD = 16;

interface Chunk {
  readonly buf: Buffer;
  used: number;
  /** Sequence number of the chunk: a record's position is seq × CHUNK_BYTES + its offset (a record starts below CHUNK_BYTES). */
  readonly seq: number;
  /** When its newest record ended (ms). */
  last: number;
}

/**
 * The streams that ended in the last REPLAY_KEEP_MS, as bytes: each record (end time, the previous record of its
 * hash bucket, rid, inbox, flags, control subject when it is not the archive's prefix + rid, packed Ack and answer
 * log, ReplayLog.pack's layout) is appended to a large chunk. At thousands of requests per second that is tens of
 * thousands of streams kept at any time; as objects (even a few per stream) they made the garbage collector's work
 * per request larger than all the rest of the relay's, and so did a map from rid to record: its rids (each a slice
 * of the Request's metadata text, keeping that alive) lived 5 s, long enough to be promoted, and each cost a map set
 * and a delete. So the index is bytes too: a table of bucket heads (positions, numbers in a typed array), each
 * record naming the previous one of its bucket, newest first. Nothing is deleted per record: prune moves a cursor
 * over the records that expired (what comes before it is gone) and drops chunks whole once everything in them is
 * older than the window; a chain ends at the first record before the cursor or in a dropped chunk.
 * Resumes and reconnects (rare) find a record by its rid and read it back as an EndedStream.
 */
export class EndedArchive {
  /** Position of the newest record of each bucket (-1: none; a stale one is told by its chunk or the cursor). */
  private readonly buckets = new Float64Array(BUCKETS).fill(-1);
  private readonly chunks: Chunk[] = [];
  private nextSeq = 0;
  /** Records before this chunk and offset in it expired (prune): chunk sequence number, offset. */
  private keptSeq = 0;
  private keptOff = 0;

  constructor(
    /** The control subject of a stream is this and its rid (the intake's): such a record does not repeat it. */
    private readonly controlPrefix = '',
  ) {}

  /** Streams kept (counted by walking them: for tests and diagnostics, not the request path). */
  get size(): number {
    let n = 0;
    for (const _ of this.latest()) n++;
    return n;
  }

  /**
   * Keeps a stream that just ended: its subjects and its log with its Ack (written straight into the chunk). With
   * `batch`, returns the log as written: a Batch message of its frames (batch.ts), a view into the chunk, whose
   * bytes are never written again. A rid archived again (rare: a Request delivered again after its stream ended) is
   * found as its newer record, which shadows the older one.
   */
  add(rid: string, reply: string, control: string, at: number, p: ReplayParts, batch = false): Buffer | undefined {
    const ownControl = !this.isPrefixed(control, rid);
    // UTF-8 takes at most 3 bytes per UTF-16 unit: an upper bound, so the texts are measured only as written.
    const len = RECORD_HEAD + 2 + 3 * rid.length + 2 + 3 * reply.length + 1 + (ownControl ? 2 + 3 * control.length : 0) + 4 + 4 + 4 + p.bytes;
    const chunk = this.room(len, at);
    const b = chunk.buf;
    const start = chunk.used;
    const bucket = bucketOf(rid);
    b.writeDoubleBE(at, start);
    b.writeDoubleBE(this.buckets[bucket]!, start + 8);
    let off = writeText(b, start + RECORD_HEAD, rid);
    off = writeText(b, off, reply);
    b[off++] = (p.ack ? 1 : 0) | (p.head ? 2 : 0) | (p.final ? 4 : 0) | (ownControl ? OWN_CONTROL : 0);
    if (ownControl) off = writeText(b, off, control);
    writeU32(b, off, p.firstSeq);
    writeU32(b, off + 4, p.sent);
    writeU32(b, off + 8, p.bytes);
    const batchStart = off + 12;
    chunk.used = writeBatch(b, batchStart, p.frames);
    this.buckets[bucket] = chunk.seq * CHUNK_BYTES + start;
    return batch ? b.subarray(batchStart, chunk.used) : undefined;
  }

  /** Whether `control` is controlPrefix + rid, compared without building that string. */
  private isPrefixed(control: string, rid: string): boolean {
    return control.length === this.controlPrefix.length + rid.length && control.startsWith(this.controlPrefix) && control.endsWith(rid);
  }

  get(rid: string): EndedStream | undefined {
    const pos = this.find(rid);
    return pos < 0 ? undefined : this.read(pos);
  }

  /** Every stream kept (its newest record), oldest first. */
  *all(): IterableIterator<EndedStream> {
    for (const pos of this.latest()) yield this.read(pos);
  }

  /** Forgets what ended before `before` (ms): the records up to the first one that ended later, then whole chunks. */
  prune(before: number): void {
    for (;;) {
      const chunk = this.keptChunk();
      if (!chunk || chunk.buf.readDoubleBE(this.keptOff) >= before) break;
      this.keptOff = recordEnd(chunk.buf, this.keptOff);
    }
    while (this.chunks.length > 0 && this.chunks[0]!.last < before) this.chunks.shift();
  }

  /**
   * The chunk of the oldest record kept, with the cursor moved onto that record (past a chunk's end, or onto the
   * first chunk when its own went); undefined when there is none.
   */
  private keptChunk(): Chunk | undefined {
    const first = this.chunks[0];
    if (!first) return undefined;
    if (this.keptSeq < first.seq) {
      this.keptSeq = first.seq;
      this.keptOff = 0;
    }
    for (let i = this.keptSeq - first.seq; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      if (this.keptOff < chunk.used) return chunk;
      if (i + 1 === this.chunks.length) return undefined;
      this.keptSeq = chunk.seq + 1;
      this.keptOff = 0;
    }
    return undefined;
  }

  /** The position of the newest record kept for `rid`, or -1. */
  private find(rid: string): number {
    for (let pos = this.buckets[bucketOf(rid)]!; pos >= 0;) {
      const chunk = this.keptChunkOf(pos);
      if (!chunk) return -1;
      const off = pos % CHUNK_BYTES;
      if (readText(chunk.buf, off + RECORD_HEAD).text === rid) return pos;
      pos = chunk.buf.readDoubleBE(off + 8);
    }
    return -1;
  }

  /** Positions of the newest record of each stream kept, oldest first. */
  private *latest(): IterableIterator<number> {
    if (!this.keptChunk()) return;
    for (let i = this.keptSeq - this.chunks[0]!.seq; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      for (let off = chunk.seq === this.keptSeq ? this.keptOff : 0; off < chunk.used; off = recordEnd(chunk.buf, off)) {
        const pos = chunk.seq * CHUNK_BYTES + off;
        if (this.find(readText(chunk.buf, off + RECORD_HEAD).text) === pos) yield pos;
      }
    }
  }

  /** The chunk a record of `len` bytes goes into (a new one when the current one is full). */
  private room(len: number, at: number): Chunk {
    let chunk = this.chunks[this.chunks.length - 1];
    if (!chunk || chunk.used + len > CHUNK_BYTES) {
      if (this.chunks.length >= MAX_CHUNKS) this.chunks.shift();
      chunk = { buf: Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, len)), used: 0, seq: this.nextSeq++, last: at };
      this.chunks.push(chunk);
    }
    // Every record of a chunk ended at or before its `last`, even if the clock stepped back.
    chunk.last = Math.max(chunk.last, at);
    return chunk;
  }

  /** The chunk of the record at `pos` while it is kept; undefined when it expired or its chunk went. */
  private keptChunkOf(pos: number): Chunk | undefined {
    const first = this.chunks[0];
    if (!first) return undefined;
    const seq = Math.floor(pos / CHUNK_BYTES);
    if (seq < this.keptSeq || (seq === this.keptSeq && pos % CHUNK_BYTES < this.keptOff)) return undefined;
    const i = seq - first.seq;
    const chunk = i >= 0 ? this.chunks[i] : undefined;
    return chunk && chunk.seq === seq ? chunk : undefined;
  }

  private read(pos: number): EndedStream {
    const chunk = this.keptChunkOf(pos)!;
    const b = chunk.buf;
    let off = pos % CHUNK_BYTES;
    const at = b.readDoubleBE(off);
    off += RECORD_HEAD;
    const rid = readText(b, off);
    off += 2 + rid.bytes;
    const reply = readText(b, off);
    off += 2 + reply.bytes;
    const flags = b[off++]!;
    let control = this.controlPrefix + rid.text;
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
    return new EndedStream(rid.text, reply.text, control, { frames, ack: (flags & 1) !== 0, head: (flags & 2) !== 0, final: (flags & 4) !== 0, firstSeq, sent }, at);
  }
}

/** Where the record at `off` ends (the next one starts). */
function recordEnd(b: Buffer, off: number): number {
  off += RECORD_HEAD;
  off += 2 + textBytes(b, off);
  off += 2 + textBytes(b, off);
  if ((b[off++]! & OWN_CONTROL) !== 0) off += 2 + textBytes(b, off);
  return off + 12 + readU32(b, off + 8);
}

/** Starts every rid's hash: rids are the ingress's, and chains an outsider could predict would be theirs to lengthen. */
const HASH_SEED = (Math.random() * 0x1_0000_0000) >>> 0;

/** The index bucket of a rid (FNV-1a over its UTF-16 units, from a random basis). */
function bucketOf(rid: string): number {
  let h = HASH_SEED;
  for (let i = 0; i < rid.length; i++) h = Math.imul(h ^ rid.charCodeAt(i), 0x01000193);
  return (h >>> 0) & (BUCKETS - 1);
}

/**
 * `text` as UTF-8 after its u16 length. Subjects and rids are ASCII: written a character a byte here (Buffer.write
 * is a call into C++ that measures and copies the string, once per request); anything else is left to it from where
 * ASCII ends.
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

function textBytes(b: Buffer, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}

function readText(b: Buffer, off: number): { text: string; bytes: number } {
  const bytes = textBytes(b, off);
  return { text: b.toString('utf8', off + 2, off + 2 + bytes), bytes };
}
