import { batchBytes, splitBatch, writeBatch, type ResumeMeta } from '@tokios/shared/protocol';

/**
 * Answer bytes one stream keeps for replay (its newest Data frames; the latest one is always kept whatever its
 * size). A NATS reconnect loses what was published while the connection was down, so an ingress that asks
 * (Resume) gets what it missed again from here instead of a failed call.
 */
export const REPLAY_BYTES = 256 * 1024;
/** What a stream that asked for answer bytes no longer held fails with (fabric_unavailable). */
export const REPLAY_LOST_MESSAGE = 'part of the answer was lost in a fabric reconnect and is no longer buffered';
/** A finished stream's log is kept this long, so an End lost in a reconnect can still be sent again. */
export const REPLAY_KEEP_MS = 5_000;

/** What a packed log says beside its frames. */
export interface ReplayFlags {
  readonly ack: boolean;
  readonly head: boolean;
  readonly final: boolean;
  /** Sequence number of the first Data frame held. */
  readonly firstSeq: number;
  /** Data frames published (the next sequence number). */
  readonly sent: number;
}

/**
 * A stream's Ack and log in one buffer (batch.ts layout: Ack, Head, Data…, final, each when present), kept for
 * REPLAY_KEEP_MS after the stream ended. At thousands of requests per second that is thousands of logs alive at any
 * time: packed, each is two objects for the garbage collector to trace and move instead of a few dozen.
 */
export interface PackedReplay extends ReplayFlags {
  readonly frames: Buffer;
}

/** A log and its Ack about to be packed: its frames in packed order, and their Batch's size (ReplayLog.parts). */
export interface ReplayParts extends ReplayFlags {
  readonly frames: readonly Uint8Array[];
  /** batchBytes of the frames: what the packed buffer takes. */
  readonly bytes: number;
}

const NO_FRAMES: readonly Uint8Array[] = [];

/** Least capacity of a live stream's own byte buffer (settle()): a slow stream's first tokens fit without a regrowth. */
const STORE_MIN_BYTES = 1024;

/**
 * The frames one stream published towards the ingress after its Ack, in order, for a Resume.
 *
 * Frames arrive as views into the connector's tunnel messages (a tunnel Batch carries many streams' frames in one
 * buffer). Held as they are, a stream at 1 token/s keeps one view object per token alive (promoted to old space,
 * dying old: the mark-compacts of thousands of slow streams) and each view keeps its whole tunnel message alive. So
 * at the end of each event-loop turn in which the stream sent something (settle(), from TurnFlush), a stream that is
 * still live copies its new frames into one byte buffer of its own, Head first, then the Data frames held: a live
 * stream costs the heap one buffer and one array of offsets, whatever its length. A quick answer ends in the turn
 * its frames came in and is archived before that: it never copies.
 */
export class ReplayLog {
  /** The Head as received, until settle() copies it into `store`. */
  private headFrame: Uint8Array | undefined;
  /** Bytes of the Head at the start of `store` (0: none there). */
  private headLen = 0;
  /** The stream's own bytes: the Head, then the settled Data frames held from `dataStart` to the last of `ends`. */
  private store: Buffer | undefined;
  /** Offset in `store` of the oldest settled Data frame held. */
  private dataStart = 0;
  /** End offset in `store` of each settled Data frame held, oldest first (small integers: one array, no object per frame). */
  private readonly ends: number[] = [];
  /**
   * Data frames not yet settled, after the settled ones, as received. Made by the first one and dropped by settle():
   * an empty array kept until a slow stream's next token would outlive the scavenges in between (and emptying one in
   * place with `length = 0` makes the next push allocate more than a new array does).
   */
  private fresh: Uint8Array[] | undefined;
  /** Sequence number of the oldest Data frame held (settled or not). */
  private firstSeq = 0;
  /** Bytes of the Data frames held. */
  private bytes = 0;
  /** Data frames published so far (the next sequence number). */
  private sent = 0;
  private finalFrame: Uint8Array | undefined;

  head(frame: Uint8Array): void {
    this.headFrame = frame;
    this.headLen = 0;
  }

  /** A Data frame as published (its id is its sequence number on NATS: one more than the previous one's). */
  dataFrame(seq: number, frame: Uint8Array): void {
    if (this.held === 0) this.firstSeq = seq;
    (this.fresh ??= []).push(frame);
    this.bytes += frame.byteLength;
    this.sent = seq + 1;
    while (this.bytes > REPLAY_BYTES && this.held > 1) this.dropOldest();
  }

  /** Data frames held. */
  private get held(): number {
    return this.ends.length + (this.fresh ? this.fresh.length : 0);
  }

  private dropOldest(): void {
    if (this.ends.length > 0) {
      const end = this.ends.shift()!;
      this.bytes -= end - this.dataStart;
      this.dataStart = end;
    } else this.bytes -= this.fresh!.shift()!.byteLength;
    this.firstSeq++;
  }

  /**
   * Copies the Head and the Data frames received since the last call into the stream's own buffer (grown, or its
   * live part moved to the front, when they do not fit), so the views they came in can die young. The frames' bytes
   * do not change: what missing() and parts() return is byte for byte the same.
   */
  settle(): void {
    const head = this.headFrame;
    const fresh = this.fresh ?? NO_FRAMES;
    if (head === undefined && fresh.length === 0) return;
    let freshBytes = 0;
    for (const f of fresh) freshBytes += f.byteLength;
    const headLen = head ? head.byteLength : this.headLen;
    const used = this.ends.length > 0 ? this.ends[this.ends.length - 1]! : this.dataStart;
    const live = used - this.dataStart;
    const need = headLen + live + freshBytes;
    let store = this.store;
    if (store === undefined || head !== undefined || need > store.length) {
      // Room for as much again (amortised: each byte copied about twice), up to twice the window: past that, old
      // frames dropped leave room at the front, reclaimed by moving the live part (below) once per window's worth.
      const size = Math.max(need, Math.min(2 * need, 2 * REPLAY_BYTES + headLen), STORE_MIN_BYTES);
      const next = Buffer.allocUnsafeSlow(size);
      if (head) next.set(head, 0);
      else if (store && headLen > 0) store.copy(next, 0, 0, headLen);
      if (store && live > 0) store.copy(next, headLen, this.dataStart, used);
      store = this.store = next;
      this.rebase(headLen);
    } else if (used + freshBytes > store.length) {
      store.copyWithin(headLen, this.dataStart, used);
      this.rebase(headLen);
    }
    let off = this.ends.length > 0 ? this.ends[this.ends.length - 1]! : this.dataStart;
    for (const f of fresh) {
      store.set(f, off);
      off += f.byteLength;
      this.ends.push(off);
    }
    this.fresh = undefined;
    this.headFrame = undefined;
    this.headLen = headLen;
  }

  /** The settled Data frames now start at `dataStart` (their bytes moved there). */
  private rebase(dataStart: number): void {
    const by = dataStart - this.dataStart;
    if (by !== 0) for (let i = 0; i < this.ends.length; i++) this.ends[i]! += by;
    this.dataStart = dataStart;
  }

  /** The Head, if any (a view into `store` once settled). */
  private headBytes(): Uint8Array | undefined {
    if (this.headFrame) return this.headFrame;
    return this.headLen > 0 ? this.store!.subarray(0, this.headLen) : undefined;
  }

  /** Data frame `i` held (0: the oldest), settled or not. */
  private dataAt(i: number): Uint8Array {
    const n = this.ends.length;
    if (i >= n) return this.fresh![i - n]!;
    return this.store!.subarray(i === 0 ? this.dataStart : this.ends[i - 1]!, this.ends[i]!);
  }

  /** The End or Error that closed the stream. */
  final(frame: Uint8Array): void {
    this.finalFrame = frame;
  }

  get finished(): boolean {
    return this.finalFrame !== undefined;
  }

  /** Answer frames published so far, Head included: what a Heartbeat carries as its id. */
  get published(): number {
    return (this.headFrame || this.headLen > 0 ? 1 : 0) + this.sent;
  }

  /** The frames an ingress holding `have` is missing, in order; undefined when some are no longer held. */
  missing(have: ResumeMeta): Uint8Array[] | undefined {
    const out: Uint8Array[] = [];
    const head = this.headBytes();
    if (!have.head && head) out.push(head);
    if (have.next < this.sent) {
      const held = this.held;
      const oldest = held > 0 ? this.firstSeq : this.sent;
      if (have.next < oldest) return undefined;
      for (let i = have.next - oldest; i < held; i++) out.push(this.dataAt(i));
    }
    if (this.finalFrame) out.push(this.finalFrame);
    return out;
  }

  /** This log and the stream's Ack (as published), packed (a copy: the frames may be views into socket reads). */
  pack(ack: Uint8Array | undefined): PackedReplay {
    const p = this.parts(ack);
    const frames = Buffer.allocUnsafe(p.bytes);
    writeBatch(frames, 0, p.frames);
    return { frames, ack: p.ack, head: p.head, final: p.final, firstSeq: p.firstSeq, sent: p.sent };
  }

  /**
   * What pack() would pack, not yet copied: EndedArchive writes the frames straight into its own chunk (writeBatch),
   * one copy per request instead of a packed buffer and then a copy of that.
   */
  parts(ack: Uint8Array | undefined): ReplayParts {
    const frames: Uint8Array[] = [];
    if (ack) frames.push(ack);
    const head = this.headBytes();
    if (head) frames.push(head);
    const held = this.held;
    for (let i = 0; i < held; i++) frames.push(this.dataAt(i));
    if (this.finalFrame) frames.push(this.finalFrame);
    let frameBytes = 0;
    for (const f of frames) frameBytes += f.byteLength;
    const firstSeq = held > 0 ? this.firstSeq : this.sent;
    return {
      frames, bytes: batchBytes(frames.length, frameBytes),
      ack: ack !== undefined, head: head !== undefined, final: this.finished, firstSeq, sent: this.sent,
    };
  }

  /** A packed log as a log again (with its Ack), to answer a Resume or a reconnect: rare, so unpacked on demand. */
  static unpack(p: PackedReplay): { ack: Uint8Array | undefined; log: ReplayLog } {
    const frames = splitBatch(p.frames);
    const log = new ReplayLog();
    let i = 0;
    const ack = p.ack ? frames[i++] : undefined;
    if (p.head) log.head(frames[i++]!);
    const dataEnd = frames.length - (p.final ? 1 : 0);
    for (let seq = p.firstSeq; i < dataEnd; seq++) log.dataFrame(seq, frames[i++]!);
    log.sent = p.sent;
    if (p.final) log.final(frames[i]!);
    return { ack, log };
  }
}
