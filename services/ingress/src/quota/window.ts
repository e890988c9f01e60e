/** Seconds in a rate-limit window (limits are per minute). */
export const WINDOW_SECONDS = 60;

/**
 * A sliding one-minute counter in one-second buckets: `sum` is what was counted in the current second and
 * the 59 before it. Advancing clears the buckets that fell out (at most 60, amortised O(1) per call).
 */
export class MinuteWindow {
  private readonly buckets = new Float64Array(WINDOW_SECONDS);
  /** The newest second (epoch seconds) the buckets describe. */
  private newest = 0;
  sum = 0;

  advance(nowSec: number): void {
    if (nowSec <= this.newest) return;
    if (nowSec - this.newest >= WINDOW_SECONDS) {
      this.buckets.fill(0);
      this.sum = 0;
    } else {
      for (let s = this.newest + 1; s <= nowSec; s++) {
        const i = s % WINDOW_SECONDS;
        this.sum -= this.buckets[i]!;
        this.buckets[i] = 0;
      }
    }
    this.newest = nowSec;
  }

  /** Counts `n` at second `sec` (clamped to the newest second; ignored when already outside the window). */
  add(sec: number, n: number, nowSec: number): void {
    this.advance(nowSec);
    const s = Math.min(sec, this.newest);
    if (s <= this.newest - WINDOW_SECONDS || n <= 0) return;
    this.buckets[s % WINDOW_SECONDS]! += n;
    this.sum += n;
  }

  /** Whole seconds until `sum` falls below `limit` as buckets expire (>= 1). Call after `advance`. */
  secondsUntilBelow(limit: number): number {
    let remaining = this.sum;
    for (let age = WINDOW_SECONDS - 1; age >= 0; age--) {
      remaining -= this.buckets[(this.newest - age) % WINDOW_SECONDS]!;
      if (remaining < limit) return WINDOW_SECONDS - age;
    }
    return WINDOW_SECONDS;
  }
}
