import type { NatsConnection } from 'nats';

/** What a queued Request is for: the call asks, at the publish, whether that attempt still wants it. */
export interface TurnSender {
  /** False when the call ended, or moved to another attempt, since `rid` was queued. */
  stillSends(rid: string): boolean;
  /** The publish threw (connection closed, payload refused): this call fails, the others go on. */
  publishFailed(err: Error): void;
}

interface Queued {
  sender: TurnSender;
  rid: string;
  subject: string;
  frame: Uint8Array;
  reply: string;
}

function flushTurn(t: RequestTurn): void {
  t.flush();
}

/**
 * The Requests of one event-loop turn in one NATS write. nats.js writes what was published at the next microtask
 * checkpoint, and Node has one after each socket's callback: every HTTP request read in a turn was its own write
 * to the NATS socket, its own read and wake-up in nats-server, and its own delivery to the terminators. Published
 * together from setImmediate, after the turn's I/O callbacks, they leave in one write (nats-server then delivers
 * them to a terminator in one write too). The delay is what is left of the turn's I/O callbacks; on an idle process,
 * one setImmediate.
 */
export class RequestTurn {
  private queue: Queued[] = [];
  private scheduled = false;

  constructor(private readonly nc: NatsConnection) {}

  /** Queues a Request for the end of this turn. */
  publish(sender: TurnSender, rid: string, subject: string, frame: Uint8Array, reply: string): void {
    this.queue.push({ sender, rid, subject, frame, reply });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(flushTurn, this);
    }
  }

  /** Publishes what is queued, in order; one that throws fails its own call only. */
  flush(): void {
    const queue = this.queue;
    this.queue = [];
    this.scheduled = false;
    for (const q of queue) {
      if (!q.sender.stillSends(q.rid)) continue;
      try {
        this.nc.publish(q.subject, q.frame, { reply: q.reply });
      } catch (err) {
        q.sender.publishFailed(err as Error);
      }
    }
  }
}
