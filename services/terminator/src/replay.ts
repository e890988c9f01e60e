import type { ResumeMeta } from '@tokios/shared/protocol';

/**
 * Answer bytes one stream keeps for replay (its newest Data frames; the latest one is always kept whatever its
 * size). A NATS reconnect loses what was published while the connection was down, so an ingress that asks
 * (Resume) gets what it missed again from here instead of a failed call.
 */
export const REPLAY_BYTES = 256 * 1024;
/** A finished stream's log is kept this long, so an End lost in a reconnect can still be sent again. */
export const REPLAY_KEEP_MS = 5_000;

/** The frames one stream published towards the ingress after its Ack, in order, for a Resume. */
export class ReplayLog {
  private headFrame: Uint8Array | undefined;
  private readonly data: { seq: number; frame: Uint8Array }[] = [];
  private bytes = 0;
  /** Data frames published so far (the next sequence number). */
  private sent = 0;
  private finalFrame: Uint8Array | undefined;

  head(frame: Uint8Array): void {
    this.headFrame = frame;
  }

  /** A Data frame as published (its id is its sequence number on NATS). */
  dataFrame(seq: number, frame: Uint8Array): void {
    this.data.push({ seq, frame });
    this.bytes += frame.byteLength;
    this.sent = seq + 1;
    while (this.bytes > REPLAY_BYTES && this.data.length > 1) this.bytes -= this.data.shift()!.frame.byteLength;
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
      const oldest = this.data[0]?.seq ?? this.sent;
      if (have.next < oldest) return undefined;
      for (const d of this.data) if (d.seq >= have.next) out.push(d.frame);
    }
    if (this.finalFrame) out.push(this.finalFrame);
    return out;
  }
}
