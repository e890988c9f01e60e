/**
 * Request deadlines, all on one Node timer. A Node timer per request costs a Timeout object, an insert into its
 * duration's list (a new list, and a priority-queue insert, for a duration no other timer has: a deadline is an
 * instant set by the ingress, so the time left differs from one request to the next) and its removal again when the
 * request ends, almost always long before its deadline. Here a request's deadline is an entry in an array (added and
 * removed in O(1)), and the one timer waits for the earliest; it is moved only for an earlier deadline, and when it
 * fires for a request that ended meanwhile it looks for the next earliest (one scan of the requests in flight, about
 * once per deadline length: the requests then in flight are the ones started last). The timer stays armed when the
 * last request ends: with one request at a time (c=1, the latency path) disarming would cost a clearTimeout and the
 * next request a setTimeout each; a timer that fires with nothing passed re-arms for the earliest entry, if any.
 * Without requests it is unref'd (it never holds the process open), and ref'd again with the next one.
 */
class DeadlineQueue {
  private readonly entries: DeadlineTimer[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The instant the timer waits for (ms since epoch); Infinity when it is not armed. */
  private armedFor = Infinity;

  add(entry: DeadlineTimer): void {
    entry.slot = this.entries.length;
    this.entries.push(entry);
    if (entry.deadline < this.armedFor) this.arm(entry.deadline);
    else if (this.entries.length === 1) this.timer?.ref();
  }

  remove(entry: DeadlineTimer): void {
    const at = entry.slot;
    entry.slot = -1;
    const last = this.entries.pop()!;
    if (last !== entry) {
      this.entries[at] = last;
      last.slot = at;
    }
    if (this.entries.length === 0) this.timer?.unref();
  }

  private arm(deadline: number): void {
    clearTimeout(this.timer);
    this.armedFor = deadline;
    this.timer = setTimeout(this.onTimer, Math.max(0, deadline - Date.now()));
  }

  private readonly onTimer = (): void => this.fired();

  /** Expires every entry whose deadline passed (after taking them all out: a callback may stop others), re-arms for the rest. */
  private fired(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = Date.now();
    const expired: DeadlineTimer[] = [];
    let next = Infinity;
    for (const entry of this.entries) {
      if (entry.deadline <= now) expired.push(entry);
      else if (entry.deadline < next) next = entry.deadline;
    }
    for (const entry of expired) this.remove(entry);
    if (next !== Infinity && next < this.armedFor) this.arm(next);
    for (const entry of expired) entry.expire();
  }
}

const queue = new DeadlineQueue();

/** Calls `expired` once `deadline` (ms since epoch) has passed, unless stopped first. */
export class DeadlineTimer {
  /** Its index in the queue while started; -1 otherwise. */
  slot = -1;

  constructor(
    readonly deadline: number,
    private readonly expired: () => void,
  ) {}

  /** Starts the wait; false (and no wait) when the deadline has passed already. */
  start(): boolean {
    if (this.deadline - Date.now() <= 0) return false;
    if (this.slot === -1) queue.add(this);
    return true;
  }

  stop(): void {
    if (this.slot !== -1) queue.remove(this);
  }

  /** The queue found the deadline passed (and took this out of it). */
  expire(): void {
    this.expired();
  }
}
