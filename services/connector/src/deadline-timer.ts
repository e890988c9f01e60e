/**
 * Timers in Node are kept in one list per duration: a timer whose duration no other pending timer has costs a new
 * list, an insert into the queue of lists and, when it is cleared, the list's removal again. A request's deadline
 * is an instant (ms since epoch) set by the ingress, so the time left differs by a few ms from one request to the
 * next and every request would pay that. The first wait is therefore rounded down to whole grains: requests of one
 * deadline setting share a handful of lists, and a timer that fires early waits again for the exact rest.
 */
const GRAIN_MS = 1_000;

/** Calls `expired` once `deadline` (ms since epoch) has passed, unless stopped first. */
export class DeadlineTimer {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deadline: number,
    private readonly expired: () => void,
  ) {}

  /** Starts the wait; false (and no timer) when the deadline has passed already. */
  start(): boolean {
    const left = this.deadline - Date.now();
    if (left <= 0) return false;
    this.timer = setTimeout(() => this.fired(), left > GRAIN_MS ? left - (left % GRAIN_MS) : left);
    return true;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fired(): void {
    this.timer = undefined;
    if (!this.start()) this.expired();
  }
}
