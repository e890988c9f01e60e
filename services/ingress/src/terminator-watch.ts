/**
 * What this ingress has read from one terminator, as the clock that judges that terminator's streams (stall check).
 *
 * Judging a stream by the wall-clock time it was last heard of mistakes a lagging reader for a dead terminator: an
 * ingress (or NATS, or the terminator) running more than the stall timeout behind fails streams whose frames are
 * still unread. A terminator that marks the end of each PairHeartbeat round (PAIR_ROUND_HEADER; sent every period to
 * every ingress it has live streams with, empty or not) gives a clock of its own instead: messages from one
 * terminator arrive in the order it published them, a round lists every stream of ours that was silent for half a
 * period, and a stream that was not silent sent a frame before the round. So a live stream is heard of (a frame, or
 * its entry) between any two rounds, however late they are read; one missing from STALL_ROUNDS rounds in a row is
 * gone (the terminator lost it: Resume cannot help, tunnel_lost as before). A dead or partitioned terminator sends
 * nothing at all: nothing read from it for the stall timeout fails its streams, as the per-stream check did.
 * A terminator that never marked a round (an older one) keeps the per-stream wall-clock check.
 */
export class TerminatorWatch {
  /** Complete PairHeartbeat rounds read from this terminator. */
  rounds = 0;
  /** The terminator marks its rounds' ends: its streams are judged by rounds. */
  marksRounds = false;
  /** When anything (a frame of any stream, a PairHeartbeat) was last read from it. */
  lastReadAt: number;

  constructor(now: number) {
    this.lastReadAt = now;
  }

  /** A frame or PairHeartbeat message from this terminator was read. */
  read(now: number): void {
    this.lastReadAt = now;
  }

  /** The last message of a PairHeartbeat round was read (after its entries were taken). */
  roundEnded(now: number): void {
    this.lastReadAt = now;
    this.marksRounds = true;
    this.rounds++;
  }
}

/**
 * Rounds in a row a stream may be missing from (no frame, no entry) before it counts as lost: one would do in theory,
 * the slack covers a frame lost in the terminator's own NATS reconnect (its Heartbeat after the reconnect may
 * come a round late). About 750 ms at the default TOKIOS_HEARTBEAT_MS of 250.
 */
export const STALL_ROUNDS = 3;

export type StallVerdict = 'alive' | 'not_listed' | 'terminator_silent' | 'stream_silent';

/**
 * The stall judgment for one stream after its Ack. `heardRound`: `watch.rounds` when the stream was last heard of;
 * `lastSeen`: the wall-clock time of that. Pure: fed what was read, no timers.
 */
export function judgeStall(
  watch: TerminatorWatch | undefined, heardRound: number, lastSeen: number, now: number, stallTimeoutMs: number, linkConfirmedAt = now,
): StallVerdict {
  if (watch === undefined || !watch.marksRounds) return now - lastSeen > stallTimeoutMs ? 'stream_silent' : 'alive';
  // Rounds complete since the one it was last heard in (a round it was listed in, or the one in progress when a
  // frame of it came, is not missed).
  if (watch.rounds - heardRound > STALL_ROUNDS) return 'not_listed';
  // Silent as far as our own link has confirmed (a PING answered: link-probe.ts), or for longer than any lag of the
  // link we wait out.
  const confirmedSilence = Math.min(now, linkConfirmedAt) - watch.lastReadAt;
  return confirmedSilence > stallTimeoutMs || now - watch.lastReadAt > stallTimeoutMs + MAX_LINK_LAG_MS ? 'terminator_silent' : 'alive';
}

/**
 * A terminator quiet for the stall timeout is taken for dead only once this ingress's NATS link confirms the silence
 * (LinkProbe): a link running behind (messages to us queued in the server or the network) is not the terminator's
 * death, and its frames are on the way. Past this much lag on top of the stall timeout, it counts as dead anyway.
 */
export const MAX_LINK_LAG_MS = 5_000;

/** The terminators this ingress reads, by id: made at a stream's Ack, dropped once long silent. */
export class TerminatorWatches {
  private readonly byId = new Map<string, TerminatorWatch>();

  constructor(private readonly forgetAfterMs: number) {}

  /** The watch for a terminator that acked a stream of ours. */
  acked(terminatorId: string, now: number): TerminatorWatch {
    let w = this.byId.get(terminatorId);
    if (!w) this.byId.set(terminatorId, (w = new TerminatorWatch(now)));
    return w;
  }

  /** The watch of a terminator that acked something of ours, else undefined (nothing is made for strangers). */
  get(terminatorId: string): TerminatorWatch | undefined {
    return this.byId.get(terminatorId);
  }

  /**
   * Drops terminators not read from for `forgetAfterMs` (restarted ones get new ids); any stream of theirs failed
   * long before (the stall timeout), so none holds a dropped watch.
   */
  prune(now: number): void {
    for (const [id, w] of this.byId) if (now - w.lastReadAt > this.forgetAfterMs) this.byId.delete(id);
  }

  get size(): number {
    return this.byId.size;
  }
}
