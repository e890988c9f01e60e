import type { Logger } from '@tokios/shared/log';
import { FrameKind, encodeFrame, type ResumeMeta } from '@tokios/shared/protocol';
import { REPLAY_LOST_MESSAGE, ReplayLog, type PackedReplay } from './replay.js';

/** Publishes one frame to an ingress inbox, with the stream's control subject as reply. */
export type PublishTo = (reply: string, control: string, frame: Uint8Array) => void;

/**
 * A stream that ended within REPLAY_KEEP_MS, as little as a Resume or a reconnect of this terminator's NATS
 * connection needs: where to publish, and its Ack and answer log packed in one buffer (the RelayStream itself, with
 * its maps, buffers and closures, is left to the garbage collector at once). Kept as bytes in an EndedArchive, made
 * again from them when needed. What it sends again goes as plain frames, which every ingress reads.
 */
export class EndedStream {
  constructor(
    readonly rid: string,
    /** Ingress inbox of the request. */
    readonly reply: string,
    /** The stream's control subject (the reply of every frame it published). */
    readonly control: string,
    readonly packed: PackedReplay,
    /** When it ended (ms). */
    readonly at: number,
  ) {}

  /** Like RelayStream.resume after the end: what the ingress misses, or an Error when it is no longer held. */
  resume(have: ResumeMeta, publish: PublishTo, log: Logger): void {
    const frames = ReplayLog.unpack(this.packed).log.missing(have);
    if (!frames) {
      log.warn({ rid: this.rid, next: have.next }, 'resume asked for answer bytes no longer buffered');
      publish(this.reply, this.control, encodeFrame(FrameKind.Error, 0, { code: 'fabric_unavailable', message: REPLAY_LOST_MESSAGE }));
      return;
    }
    for (const f of frames) publish(this.reply, this.control, f);
  }

  /** Like RelayStream.reconnected after the end: the Ack again, then the final frame (or a Heartbeat without one). */
  reconnected(publish: PublishTo): void {
    const { ack, log } = ReplayLog.unpack(this.packed);
    if (ack) publish(this.reply, this.control, ack);
    if (log.finished) {
      const last = log.missing({ head: true, next: log.published });
      if (last?.length) publish(this.reply, this.control, last[last.length - 1]!);
    } else publish(this.reply, this.control, encodeFrame(FrameKind.Heartbeat, log.published));
  }
}
