import type { Writable } from 'node:stream';

/**
 * What was in flight when a stream paused (the tunnel, the terminator, NATS, socket buffers) still arrives after the
 * Pause: a paused stream may pass the unsent cap for this long, and never by more than this factor. Past either, the
 * connector is taken not to honour Pause (an older one) and the call is given up.
 */
export const IN_FLIGHT_GRACE_MS = 2_000;
export const IN_FLIGHT_CAP_FACTOR = 4;

/**
 * Hysteresis on Unpause. A caller whose kernel socket keeps taking a little more (its buffers grow while it does not
 * read) drains the unsent bytes again and again: each drain would send Unpause, and the stream would pause again
 * within a millisecond, letting up to the pause mark through per cycle. A pause that starts within
 * `REPAUSE_WINDOW_MS` of the last Unpause doubles how long the next pause is held at least (from `MIN_HOLD_MS` up to
 * `MAX_HOLD_MS`) before a drain lets the stream flow; a pause that starts later forgets it. A caller that reads keeps
 * multi-megabyte kernel buffers to read from meanwhile, and its drain still clears the give-up timer at once.
 */
export const REPAUSE_WINDOW_MS = 100;
export const MIN_HOLD_MS = 10;
export const MAX_HOLD_MS = 500;

export interface CallerFlowOptions {
  /** Unsent bytes past which the stream is paused (TOKIOS_PAUSE_UNSENT_BYTES). */
  pauseUnsentBytes: number;
  /** Unsent bytes past which the call is given up whatever else holds (TOKIOS_MAX_UNSENT_ANSWER_BYTES). */
  maxUnsentAnswerBytes: number;
  /** A pause lasting longer than this gives the call up (TOKIOS_MAX_CALLER_PAUSE_MS). */
  maxCallerPauseMs: number;
  /** A pause this soon after the last Unpause counts as a quick re-pause (REPAUSE_WINDOW_MS; tests widen or narrow it). */
  repauseWindowMs?: number;
}

export interface CallerFlowHooks {
  /** The caller stopped reading: hold the stream at the connector. */
  pause(): void;
  /** The caller took everything it was sent: let the stream flow again. */
  unpause(): void;
  /** The caller has not read for too long, or left too much unsent: stop the call. */
  giveUp(why: { unsentBytes: number; pausedMs: number }): void;
}

/**
 * Backpressure from a streaming caller to its connector. The hot path costs nothing while the caller reads: only a
 * write the socket did not take at once (`res.write` returned false) looks at the unsent bytes. Past the pause mark
 * the stream is paused (the connector stops reading the model server's answer) until the response drains; what was
 * already in flight still arrives and waits here. Only a pause that lasts `maxCallerPauseMs`, or unsent bytes past
 * `maxUnsentAnswerBytes` beyond the in-flight allowance (a connector that does not know Pause keeps sending), give
 * the call up.
 */
export class CallerFlow {
  private pausedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** When the stream last flowed again (0: never paused), and how long the next pause is held at least. */
  private unpausedAt = 0;
  private holdMs = 0;
  private holdTimer: NodeJS.Timeout | undefined;

  constructor(
    /** The caller's response: only its unsent bytes and its `drain` are read. */
    private readonly res: Pick<Writable, 'writableLength' | 'once' | 'off'>,
    private readonly opts: CallerFlowOptions,
    private readonly hooks: CallerFlowHooks,
  ) {}

  get paused(): boolean {
    return this.pausedAt > 0;
  }

  /** After a write the caller's socket did not take at once. */
  congested(): void {
    if (this.stopped) return;
    const unsent = this.res.writableLength;
    if (unsent > this.opts.maxUnsentAnswerBytes && this.overCap(unsent)) return this.giveUp(unsent);
    if (this.pausedAt > 0 || unsent <= this.opts.pauseUnsentBytes) return;
    this.pausedAt = Date.now();
    const quick = this.unpausedAt > 0 && this.pausedAt - this.unpausedAt < (this.opts.repauseWindowMs ?? REPAUSE_WINDOW_MS);
    this.holdMs = quick ? Math.min(MAX_HOLD_MS, Math.max(MIN_HOLD_MS, this.holdMs * 2)) : 0;
    this.res.once('drain', this.drained);
    this.timer = setTimeout(() => this.giveUp(this.res.writableLength), this.opts.maxCallerPauseMs);
    this.timer.unref();
    this.hooks.pause();
  }

  /** The stream is over (ended, failed, the caller left): no more pauses, timers or hooks. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.holdTimer);
    this.res.off('drain', this.drained);
    this.pausedAt = 0;
  }

  /** Over the unsent cap: given up unless the stream just paused and what arrives is what was in flight. */
  private overCap(unsent: number): boolean {
    if (this.pausedAt === 0) return true;
    return Date.now() - this.pausedAt > IN_FLIGHT_GRACE_MS || unsent > this.opts.maxUnsentAnswerBytes * IN_FLIGHT_CAP_FACTOR;
  }

  /** The caller took every unsent byte: it is reading, so it is not given up; the stream flows once held long enough. */
  private readonly drained = (): void => {
    if (this.stopped || this.pausedAt === 0) return;
    clearTimeout(this.timer);
    const wait = this.pausedAt + this.holdMs - Date.now();
    if (wait > 0) {
      this.holdTimer = setTimeout(this.resume, wait);
      this.holdTimer.unref();
    } else this.resume();
  };

  private readonly resume = (): void => {
    if (this.stopped || this.pausedAt === 0) return;
    this.pausedAt = 0;
    this.unpausedAt = Date.now();
    this.hooks.unpause();
  };

  private giveUp(unsentBytes: number): void {
    const pausedMs = this.pausedAt > 0 ? Date.now() - this.pausedAt : 0;
    this.stop();
    this.hooks.giveUp({ unsentBytes, pausedMs });
  }
}
