import { FrameKind, encodeFrame, type AckMeta } from '@tokios/shared/protocol';
import { TokiosError } from '@tokios/shared/errors';
import { CallDispatch } from './call-dispatch.js';
import { PauseLease } from './pause-lease.js';
import { judgeStall, type TerminatorWatch } from './terminator-watch.js';

/** A call asks for the part of its answer it missed at most this often, and this many times in all. */
const RESUME_EVERY_MS = 200;
const MAX_RESUMES = 8;

/**
 * A call's watch over its stream after the Ack: silence (the stall timeout), gaps in the answer and the Resumes
 * that fill them from the terminator's replay buffer, heartbeats, a reconnect of this ingress's NATS connection,
 * and flow control towards the connector while the caller does not read.
 */
export abstract class CallWatch extends CallDispatch {
  /** Data frames taken so far: the next one expected. */
  protected seq = 0;
  private resumes = 0;
  private resumeAskedAt = 0;
  /** A gap is open (frames lost): it must be filled by a replay within the stall timeout. */
  private gapSince = 0;
  private gapReason = '';
  /**
   * Pause/Unpause towards the connector while the caller does not read; made at the first pause (a lease never paused
   * does nothing on tick, unpause or reconnect), so a call whose caller reads costs none.
   */
  private lease: PauseLease | undefined;
  /** When this stream was last heard of (a frame, a heartbeat, its pair-heartbeat entry). */
  protected lastSeen = 0;
  /** What was read from the terminator that acked it, and its round count when this stream was last heard of. */
  private pair: TerminatorWatch | undefined;
  private heardRound = 0;

  /** Ends the call with a protocol error (a broken or lost answer). */
  protected protocolError(message: string): void {
    this.fail(new TokiosError('protocol_error', message));
  }

  /**
   * This ingress's NATS connection is back. A held Request goes out now; one sent before that may have been lost,
   * or its Ack, so it goes again as a new attempt (a terminator that took the old one gets a Cancel when it answers).
   * A stream asks for what it missed; one whose body parts may have been lost starts over if nothing was answered.
   */
  onReconnect(): void {
    if (this.done || this.retryTimer) return;
    // Rounds and frames published while we were away are lost, not late: the silence checks start again from now.
    this.heard(Date.now());
    if (this.held) return this.publishRequest();
    if (!this.acked) return this.send();
    if (this.bodyPartsAt > 0 && !this.headSeen) {
      if (this.control) this.fabric.sendCancel(this.control, 'restarted after a fabric reconnect');
      return this.send();
    }
    this.askResume('the fabric reconnected', { force: true, gap: false });
    this.lease?.reconnected(Date.now());
  }

  /** The caller stopped reading: the connector stops reading the model's answer for this stream (PauseLease). */
  pause(): void {
    if (this.done) return;
    this.lease ??= new PauseLease((frame) => {
      if (this.control) this.fabric.publishControl(this.control, frame);
    });
    this.lease.pause(Date.now());
  }

  /** The caller drained what it was sent: the answer flows again. */
  unpause(): void {
    if (!this.done) this.lease?.unpause(Date.now());
  }

  /**
   * The terminator says the stream is alive and has published `published` answer frames (Head + Data): a Heartbeat
   * of its own, or its entry in the terminator's PairHeartbeat. More than arrived means some were lost: ask for them.
   */
  beat(published: number, now = Date.now()): void {
    if (this.done) return;
    this.heard(now);
    const have = (this.headSeen ? 1 : 0) + this.seq;
    if (published > have) this.askResume(`the terminator published ${published} answer frames, ${have} arrived`);
  }

  /** Something of this stream was read: it is alive as of its terminator's current round. */
  protected heard(now: number): void {
    this.lastSeen = now;
    const w = this.pair;
    if (w !== undefined) {
      w.read(now);
      this.heardRound = w.rounds;
    }
  }

  /** The first Ack of an attempt: the stream is judged by what is read from that terminator from now on. */
  protected override onAck(ack: AckMeta): void {
    if (this.acked) return super.onAck(ack);
    super.onAck(ack);
    this.pair = this.fabric.watches.acked(ack.terminatorId, this.lastSeen);
    this.heard(this.lastSeen); // the Ack itself was read from that terminator
  }

  /** The expected Data frame arrived: a gap it was part of is filled. */
  protected gapFilled(): void {
    if (this.gapSince > 0) {
      this.gapSince = 0;
      this.resumes = 0;
    }
  }

  /**
   * Asks the terminator to publish again what it sent after what we have (its replay buffer). A known gap stays open
   * until the sequence moves on: checkStream asks again while it is (a Resume can be lost in a reconnect too) and
   * fails the call when it outlasts the stall timeout. After our own reconnect nothing is known to be missing: the
   * ask is a precaution and opens no gap.
   */
  protected askResume(why: string, o: { force?: boolean; gap?: boolean } = {}): void {
    if (!this.control) return; // no Ack yet (lost in the reconnect too): the terminator sends it again first
    const now = Date.now();
    if (o.gap !== false && this.gapSince === 0) {
      this.gapSince = now;
      this.gapReason = why;
    }
    if (!o.force && now - this.resumeAskedAt < RESUME_EVERY_MS) return;
    if (++this.resumes > MAX_RESUMES) return this.protocolError(`${why} (not resumed after ${MAX_RESUMES} attempts)`);
    this.resumeAskedAt = now;
    this.fabric.log.info({ rid: this.rid, why, head: this.headSeen, next: this.seq }, 'asking the terminator to resume the stream');
    this.fabric.publishControl(this.control, encodeFrame(FrameKind.Resume, 0, { head: this.headSeen, next: this.seq }), this.fabric.inbox(this.rid));
  }

  /**
   * After the Ack (checked by the fabric's sweeper): flow-control renewals, an open gap, silence. Silence is judged
   * by what was read from the stream's terminator (judgeStall): a stream missing from its rounds, or a terminator
   * from which nothing came for the stall timeout; by the stream's own silence for a terminator that marks no rounds.
   */
  protected checkStream(now: number): void {
    this.lease?.tick(now);
    if (this.gapSince > 0) {
      if (now - this.gapSince > this.fabric.options.stallTimeoutMs) return this.protocolError(`${this.gapReason} (not resumed)`);
      if (now - this.resumeAskedAt >= RESUME_EVERY_MS) this.askResume(this.gapReason);
    }
    const stallMs = this.fabric.options.stallTimeoutMs;
    // Its terminator has been quiet a while: have our own link confirm the silence before it counts (link-probe.ts).
    if (this.pair?.marksRounds && now - this.pair.lastReadAt > stallMs / 2) this.fabric.link.probe(now);
    const verdict = judgeStall(this.pair, this.heardRound, this.lastSeen, now, stallMs, this.fabric.link.confirmedAt);
    if (verdict !== 'alive') {
      // debug: a dead terminator fails all its streams at once; the caller's error and the request line say enough at info.
      this.fabric.log.debug({ rid: this.rid, terminatorId: this.terminatorId, why: verdict }, 'stream stalled');
      this.fail(new TokiosError('tunnel_lost', 'The tunnel went silent mid-request.'));
    }
  }
}
