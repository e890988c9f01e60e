import type { Msg, NatsConnection, Subscription } from 'nats';
import { LogThrottle, type Logger } from '@tokios/shared/log';
import { subjects } from '@tokios/shared/subjects';
import { FabricGate, type FabricKey } from '@tokios/shared/fabric-auth';
import { Lru } from '../auth/lru.js';
import { MAX_HOME_ENTRIES, publishHomes, readHomes, type HomeEntry } from './messages.js';

export interface AffinityOptions {
  /** TOKIOS_AFFINITY: off = placement by load alone (no session keys, no homes). */
  enabled: boolean;
  /** Sessions remembered per replica (least recently used forgotten first). */
  maxSessions: number;
  /** A home not used for this long is forgotten (the model server has likely evicted the prefix by then). */
  ttlMs: number;
  /**
   * New homes are gathered this long and go out in one signed message: each replica publishes at most 1000/syncMs
   * messages a second to every other, so the fleet's deliveries stay under N² × 1000/syncMs per second however many
   * sessions start (docs/SCALING.md). A session's next turn through another replica within this window is placed by load.
   */
  syncMs: number;
}

export const defaultAffinityOptions = (): AffinityOptions => ({ enabled: true, maxSessions: 100_000, ttlMs: 30 * 60_000, syncMs: 250 });
/** Homes waiting to go out; past this the oldest are dropped (affinity is best effort, memory is not). */
const MAX_OUTBOX = 10_000;

interface Home {
  connectorId: string;
  /** Last placed there (by this replica) or learned. */
  at: number;
  /** Last told to the other replicas: a home in use is told again every ttl/4, so theirs does not expire meanwhile. */
  toldAt: number;
}

/**
 * Where each session's prefix is cached: session key (a hash) → the connector that served it last. Learned from Acks
 * (placed), shared with the other ingress replicas over `tokios.affinity.home` (signed, batched per syncMs), forgotten after the
 * TTL, when the home is gone (forget) or by LRU. The request path costs one map lookup (home) and, on the Ack, one
 * comparison (placed); a message goes out only when a session gets a new home.
 */
export class SessionHomes {
  private readonly homes: Lru<string, Home>;
  /** Homes to tell the other replicas, by session: a later placement of a session in the same window replaces its
   * earlier one (a request re-placed before its answer is Acked twice), so peers get one, the latest. */
  private outbox = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private sub: Subscription | undefined;
  readonly gate: FabricGate;
  readonly stats = { published: 0, received: 0, learned: 0, malformed: 0, skippedEntries: 0 };
  private readonly badLog = new LogThrottle(10_000);

  constructor(
    private readonly nc: NatsConnection,
    private readonly key: FabricKey,
    private readonly replicaId: string,
    readonly options: AffinityOptions,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.homes = new Lru(options.maxSessions);
    this.gate = new FabricGate(key, 'session homes', log, now);
  }

  start(): void {
    this.sub = this.nc.subscribe(subjects.affinityHomes, { callback: (err, msg) => (err ? undefined : this.onHomes(msg)) });
  }

  get size(): number {
    return this.homes.size;
  }

  /** The session's home connector, if one is known and fresh. */
  home(session: string): string | undefined {
    const h = this.homes.get(session);
    if (h === undefined) return undefined;
    if (this.now() - h.at > this.options.ttlMs) {
      this.homes.delete(session);
      return undefined;
    }
    return h.connectorId;
  }

  /** A terminator placed the session's request on `connectorId` (its Ack): that is the home from now on. */
  placed(session: string, connectorId: string): void {
    const now = this.now();
    const h = this.homes.peek(session);
    if (h !== undefined && h.connectorId === connectorId) {
      h.at = now;
      if (now - h.toldAt < this.options.ttlMs / 4) return;
      h.toldAt = now;
    } else {
      this.homes.set(session, { connectorId, at: now, toldAt: now });
    }
    this.tell([session, connectorId]);
  }

  /** The home did not answer at all (no terminator has it any more): forgotten, unless it has changed meanwhile. */
  forget(session: string, connectorId: string): void {
    if (this.homes.peek(session)?.connectorId === connectorId) this.homes.delete(session);
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
    this.sub?.unsubscribe();
  }

  private tell(entry: HomeEntry): void {
    const [session, connectorId] = entry;
    this.outbox.delete(session);
    this.outbox.set(session, connectorId);
    if (this.outbox.size > MAX_OUTBOX) this.outbox.delete(this.outbox.keys().next().value!);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.options.syncMs);
    this.timer.unref();
  }

  private flush(): void {
    const out: HomeEntry[] = [...this.outbox];
    this.outbox = new Map();
    for (let i = 0; i < out.length; i += MAX_HOME_ENTRIES) {
      try {
        publishHomes(this.nc, this.key, this.replicaId, out.slice(i, i + MAX_HOME_ENTRIES));
        this.stats.published++;
      } catch (err) {
        this.log.debug({ err: (err as Error).message }, 'session homes publish failed');
      }
    }
  }

  private onHomes(msg: Msg): void {
    const homes = readHomes(this.gate, msg);
    if (homes === 'refused') return;
    if (!homes) {
      this.stats.malformed++;
      const held = this.badLog.take();
      if (held !== undefined) this.log.warn({ bytes: msg.data.length, malformed: this.stats.malformed }, 'malformed session homes message ignored');
      return;
    }
    if (homes.from === this.replicaId) return;
    this.stats.received++;
    if (homes.skipped > 0) {
      this.stats.skippedEntries += homes.skipped;
      const held = this.badLog.take();
      if (held !== undefined) this.log.warn({ peer: homes.from, skippedTotal: this.stats.skippedEntries }, 'invalid session home entries skipped');
    }
    const now = this.now();
    for (const [session, connectorId] of homes.h) {
      this.homes.set(session, { connectorId, at: now, toldAt: now });
      this.stats.learned++;
    }
  }
}
