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

/** The frames one stream published towards the ingress after its Ack, in order, for a Resume. */
export class ReplayLog {
  private headFrame: Uint8Array | undefined;
  /**
   * The Data frames held, oldest first: consecutive sequence numbers from `firstSeq` (frames, not an object per
   * frame: one allocation less per Data frame, for the garbage collector too).
   */
  private readonly data: Uint8Array[] = [];
  /** Sequence number of data[0]. */
  private firstSeq = 0;
  private bytes = 0;
  /** Data frames published so far (the next sequence number). */
  private sent = 0;
  private finalFrame: Uint8Array | undefined;

  head(frame: Uint8Array): void {
    this.headFrame = frame;
  }

  /** A Data frame as published (its id is its sequence number on NATS: one more than the previous one's). */
  dataFrame(seq: number, frame: Uint8Array): void {
    if (this.data.length === 0) this.firstSeq = seq;
    this.data.push(frame);
    this.bytes += frame.byteLength;
    this.sent = seq + 1;
    while (this.bytes > REPLAY_BYTES && this.data.length > 1) {
      this.bytes -= this.data.shift()!.byteLength;
      this.firstSeq++;
    }
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
    return (this.headFrame ? 1 : 0) + this.sent;
  }

  /** The frames an ingress holding `have` is missing, in order; undefined when some are no longer held. */
  missing(have: ResumeMeta): Uint8Array[] | undefined {
    const out: Uint8Array[] = [];
    if (!have.head && this.headFrame) out.push(this.headFrame);
    if (have.next < this.sent) {
      const oldest = this.data.length > 0 ? this.firstSeq : this.sent;
      if (have.next < oldest) return undefined;
      for (let i = have.next - oldest; i < this.data.length; i++) out.push(this.data[i]!);
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
    if (this.headFrame) frames.push(this.headFrame);
    for (const d of this.data) frames.push(d);
    if (this.finalFrame) frames.push(this.finalFrame);
    let frameBytes = 0;
    for (const f of frames) frameBytes += f.byteLength;
    const firstSeq = this.data.length > 0 ? this.firstSeq : this.sent;
    return {
      frames, bytes: batchBytes(frames.length, frameBytes),
      ack: ack !== undefined, head: this.headFrame !== undefined, final: this.finished, firstSeq, sent: this.sent,
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
