import { writeBatch } from '@tokios/shared/protocol';
import { EndedStream } from './ended-stream.js';
import type { ReplayParts } from './replay.js';

/** Bytes per archive chunk (a record larger than that gets a chunk of its own). */
const CHUNK_BYTES = 1 << 19;
/** Chunk numbers wrap at this: a position (chunk number × CHUNK_BYTES + offset) stays a small integer. */
const CHUNK_NUMBERS = 2048;

interface Chunk {
  readonly buf: Buffer;
  used: number;
  /** Sequence number of the chunk (positions carry it modulo CHUNK_NUMBERS). */
  readonly seq: number;
  /** When its newest record ended (ms). */
  last: number;
}

/**
 * The streams that ended in the last REPLAY_KEEP_MS, as bytes: each record (end time, inbox, control subject, packed
 * Ack and answer log, ReplayLog.pack's layout) is appended to a large chunk, and a map holds where each rid's record starts. At thousands of
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

  get size(): number {
    return this.index.size;
  }

  /** Keeps a stream that just ended: its subjects and its log with its Ack (written straight into the chunk). */
  add(rid: string, reply: string, control: string, at: number, p: ReplayParts): void {
    const len = 8 + 2 + Buffer.byteLength(reply) + 2 + Buffer.byteLength(control) + 1 + 4 + 4 + 4 + p.bytes;
    const chunk = this.room(len, at);
    let off = chunk.used;
    const start = off;
    const b = chunk.buf;
    off = b.writeDoubleBE(at, off);
    off = writeText(b, off, reply);
    off = writeText(b, off, control);
    off = b.writeUInt8((p.ack ? 1 : 0) | (p.head ? 2 : 0) | (p.final ? 4 : 0), off);
    off = b.writeUInt32BE(p.firstSeq, off);
    off = b.writeUInt32BE(p.sent, off);
    off = b.writeUInt32BE(p.bytes, off);
    chunk.used = writeBatch(b, off, p.frames);
    this.index.delete(rid);
    this.index.set(rid, (chunk.seq % CHUNK_NUMBERS) * CHUNK_BYTES + start);
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
      const at = this.locate(pos);
      if (at && at.chunk.buf.readDoubleBE(at.off) >= before) break;
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

  /** Where a record is; undefined when its chunk is gone (dropped by a clock step back, or a full archive). */
  private locate(pos: number): { chunk: Chunk; off: number } | undefined {
    const first = this.chunks[0];
    if (!first) return undefined;
    const n = Math.floor(pos / CHUNK_BYTES);
    const chunk = this.chunks[(n - (first.seq % CHUNK_NUMBERS) + CHUNK_NUMBERS) % CHUNK_NUMBERS];
    return chunk && chunk.seq % CHUNK_NUMBERS === n ? { chunk, off: pos % CHUNK_BYTES } : undefined;
  }

  private read(rid: string, pos: number): EndedStream | undefined {
    const at0 = this.locate(pos);
    if (!at0) return undefined;
    const { chunk, off: start } = at0;
    const b = chunk.buf;
    let off = start;
    const at = b.readDoubleBE(off);
    off += 8;
    const reply = readText(b, off);
    off += 2 + reply.bytes;
    const control = readText(b, off);
    off += 2 + control.bytes;
    const flags = b.readUInt8(off);
    const firstSeq = b.readUInt32BE(off + 1);
    const sent = b.readUInt32BE(off + 5);
    const framesLen = b.readUInt32BE(off + 9);
    off += 13;
    const frames = b.subarray(off, off + framesLen);
    return new EndedStream(rid, reply.text, control.text, { frames, ack: (flags & 1) !== 0, head: (flags & 2) !== 0, final: (flags & 4) !== 0, firstSeq, sent }, at);
  }
}

function writeText(b: Buffer, off: number, text: string): number {
  const n = b.write(text, off + 2, 'utf8');
  b.writeUInt16BE(n, off);
  return off + 2 + n;
}

function readText(b: Buffer, off: number): { text: string; bytes: number } {
  const bytes = b.readUInt16BE(off);
  return { text: b.toString('utf8', off + 2, off + 2 + bytes), bytes };
}
