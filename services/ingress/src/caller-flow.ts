import type { ServerResponse } from 'node:http';

/**
 * What was in flight when a stream paused (the tunnel, the terminator, NATS, socket buffers) still arrives after the
 * Pause: a paused stream may pass the unsent cap for this long, and never by more than this factor. Past either, the
 * connector is taken not to honour Pause (an older one) and the call is given up.
 */
export const IN_FLIGHT_GRACE_MS = 2_000;
export const IN_FLIGHT_CAP_FACTOR = 4;

export interface CallerFlowOptions {
  /** Unsent bytes past which the stream is paused (TOKIOS_PAUSE_UNSENT_BYTES). */
  pauseUnsentBytes: number;
  /** Unsent bytes past which the call is given up whatever else holds (TOKIOS_MAX_UNSENT_ANSWER_BYTES). */
  maxUnsentAnswerBytes: number;
  /** A pause lasting longer than this gives the call up (TOKIOS_MAX_CALLER_PAUSE_MS). */
  maxCallerPauseMs: number;
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

  constructor(
    private readonly res: ServerResponse,
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
    this.res.once('drain', this.drained);
    this.timer = setTimeout(() => this.giveUp(this.res.writableLength), this.opts.maxCallerPauseMs);
    this.timer.unref();
    this.hooks.pause();
  }

  /** The stream is over (ended, failed, the caller left): no more pauses, timers or hooks. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.res.off('drain', this.drained);
    this.pausedAt = 0;
  }

  /** Over the unsent cap: given up unless the stream just paused and what arrives is what was in flight. */
  private overCap(unsent: number): boolean {
    if (this.pausedAt === 0) return true;
    return Date.now() - this.pausedAt > IN_FLIGHT_GRACE_MS || unsent > this.opts.maxUnsentAnswerBytes * IN_FLIGHT_CAP_FACTOR;
  }

  private readonly drained = (): void => {
    if (this.stopped || this.pausedAt === 0) return;
    this.pausedAt = 0;
    clearTimeout(this.timer);
    this.hooks.unpause();
  };

  private giveUp(unsentBytes: number): void {
    const pausedMs = this.pausedAt > 0 ? Date.now() - this.pausedAt : 0;
    this.stop();
    this.hooks.giveUp({ unsentBytes, pausedMs });
  }
}
