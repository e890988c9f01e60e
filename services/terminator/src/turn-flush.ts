/** A stream whose frames for the ingress wait for the end of the event-loop turn (RelayStream's outbox). */
export interface TurnOutput {
  flushOutbox(): void;
}

/**
 * Publishes the waiting frames of every stream once per event-loop turn, after all of the turn's socket reads.
 * nats.js writes what was published in a microtask queued by the first publish of a callback, so streams flushed in
 * their own microtasks left one socket write to NATS per tunnel read (per connector socket with data in that turn);
 * flushed together in one setImmediate (the check phase, right after the turn's I/O callbacks) they are one write per
 * turn, however many tunnels had tokens. No wait is added: the frames leave in the same turn they were read in.
 */
export class TurnFlush {
  private waiting: TurnOutput[] = [];
  private scheduled = false;

  /** `s` has frames waiting (it calls this once until it is flushed). */
  add(s: TurnOutput): void {
    this.waiting.push(s);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.onTurnEnd);
  }

  /**
   * Publishes everything waiting now: before anything published around the streams (a replay of an ended stream)
   * that must not overtake their frames, and on close.
   */
  flush(): void {
    const streams = this.waiting;
    if (streams.length === 0) return;
    this.waiting = [];
    for (const s of streams) s.flushOutbox();
  }

  private readonly onTurnEnd = (): void => {
    this.scheduled = false;
    this.flush();
  };
}
