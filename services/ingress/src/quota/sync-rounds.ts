/**
 * Sync rounds between ingress replicas near a limit (limiter.ts).
 *
 * A replica that publishes its counts because a key is near its limit numbers that message (`sync: r`) and waits
 * for every live peer to answer it (`ack`: the peer's own counts, sent after it added ours). Until then the keys it
 * published for admit nothing more: their requests wait for the round, then are checked against a view that holds
 * everything the peers had admitted up to their answers. Peers that do not answer within `waitMs` (gone, or an older
 * version that does not know `sync`) end the round, so a wait never outlives it.
 *
 * The newest round stands for the older ones: an answer to round r answers every round before it (one publisher's
 * messages arrive in order), so only the newest round's peers are awaited; a replica opens a round only when none
 * is open.
 */
export class SyncRounds {
  /** The newest round this replica started (0: none yet). */
  private round = 0;
  /** The newest round known answered by all (or timed out). */
  private doneRound = 0;
  private readonly awaiting = new Set<string>();
  private deadline = 0;
  private waiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Per peer, the newest of its rounds we owe an answer to. */
  private readonly owed = new Map<string, number>();
  readonly stats = { rounds: 0, timedOut: 0 };

  constructor(
    private readonly waitMs: number,
    private readonly now: () => number,
  ) {}

  /** The newest round (what a key published in now waits for). */
  get current(): number {
    return this.round;
  }

  /** Whether a round is open (started, not yet answered by all, not timed out). */
  get open(): boolean {
    return this.holds(this.round);
  }

  /** Starts a round awaiting `peers`: the number to publish as `sync`. */
  start(peers: Iterable<string>): number {
    this.round++;
    this.stats.rounds++;
    this.awaiting.clear();
    for (const p of peers) this.awaiting.add(p);
    this.deadline = this.now() + this.waitMs;
    if (this.awaiting.size === 0) this.finish();
    return this.round;
  }

  /** Whether a key that published in round `round` still waits. */
  holds(round: number): boolean {
    if (round <= this.doneRound) return false;
    if (this.now() >= this.deadline) {
      this.stats.timedOut++;
      this.finish();
      return false;
    }
    return true;
  }

  /** Resolves when the open round ends (answered by all, or at its deadline). */
  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      if (!this.timer) {
        // One timer per round, not per request: it ends the round if a peer never answers.
        this.timer = setTimeout(() => this.holds(this.round), Math.max(0, this.deadline - this.now()) + 1);
        this.timer.unref();
      }
    });
  }

  /** A peer answered our round `round` (an answer to an older round does not cover the newest: ignored). */
  answered(peer: string, round: number): void {
    if (round !== this.round || !this.awaiting.delete(peer)) return;
    if (this.awaiting.size === 0) this.finish();
  }

  /** A peer left (forgotten after its silence): it will not answer. */
  gone(peer: string): void {
    if (this.awaiting.delete(peer) && this.awaiting.size === 0) this.finish();
  }

  /** A peer asked: we owe it an answer to its round `round`. */
  owe(peer: string, round: number): void {
    if ((this.owed.get(peer) ?? 0) < round) this.owed.set(peer, round);
  }

  /** The answers owed, at most `max` (the rest time out on the asker's side), and forgets them. */
  takeOwed(max: number): [string, number][] {
    const out: [string, number][] = [];
    for (const entry of this.owed) {
      if (out.length >= max) break;
      out.push(entry);
    }
    this.owed.clear();
    return out;
  }

  /** Ends the round and lets its waiting requests go on (at close too). */
  finish(): void {
    this.awaiting.clear();
    this.doneRound = this.round;
    clearTimeout(this.timer);
    this.timer = undefined;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
