import type { Msg, NatsConnection, Subscription } from 'nats';
import { LogThrottle, type Logger } from '@tokios/shared/log';
import type { KeyLimits } from '@tokios/shared/store';
import { subjects } from '@tokios/shared/subjects';
import { FabricGate, type FabricKey } from '@tokios/shared/fabric-auth';
import { Lru } from '../auth/lru.js';
import { MinuteWindow } from './window.js';
import { MAX_DELTA_ACKS, MAX_DELTA_ENTRIES, MAX_DELTA_REQUESTS, MAX_DELTA_TOKENS, publishDelta, readDelta, type DeltaEntry, type QuotaDelta } from './messages.js';
import { SyncRounds } from './sync-rounds.js';

export interface QuotaOptions {
  /** How often this replica publishes what it counted. */
  syncMs: number;
  /** Keys tracked at once (least recently used forgotten first). */
  maxKeys: number;
  /** How long a replica near a limit holds a key to its share while waiting for every peer's answer (sync-rounds.ts). */
  syncWaitMs: number;
}

export const defaultQuotaOptions = (): QuotaOptions => ({ syncMs: 1_000, maxKeys: 100_000, syncWaitMs: 250 });

export interface QuotaExceeded {
  kind: 'requests' | 'tokens';
  limit: number;
  used: number;
  /** Whole seconds until the window drops below the limit. */
  retryAfterSec: number;
}

interface KeyState {
  id: string;
  req: MinuteWindow;
  tok: MinuteWindow;
  /** Counted here, not yet published; all in second `pendSec`. */
  pendSec: number;
  pendReq: number;
  pendTok: number;
  /** Its requests wait until sync round `holdRound` is answered (0: never held). */
  holdRound: number;
}

const HEARTBEAT_MS = 1_000;
const PEER_TTL_MS = 3_500;
/** A peer heard from within PEER_TTL_MS: counted in n, and awaited by a sync round. */
const isLive = (seen: number, now: number): boolean => now - seen <= PEER_TTL_MS;

/**
 * Per-key requests/min and tokens/min over a sliding minute (60 one-second buckets), shared by every ingress
 * replica over core NATS (`tokios.quota.delta`).
 *
 * Each replica counts locally at once and sums what the others report. Increments are published every
 * `syncMs`, and immediately when a key nears its limit: with n live replicas, a replica publishes as soon as
 * its unpublished count p satisfies p·n ≥ limit − (what everyone had published), so the counts nobody else
 * has seen stay within one n-th of the headroom. Near the limit each admission is broadcast at once, which keeps
 * the overshoot to roughly the requests in flight on the wire (sub-millisecond on one NATS cluster).
 *
 * That rule alone bounds the total: every replica's unpublished count stays under (limit − published)/n, so all
 * of them together stay under the headroom. The periodic publish only keeps far-from-limit views (and the
 * x-ratelimit-remaining headers) fresh, so it runs once a second, with the heartbeat: every message reaches every
 * replica, n publishers × n receivers, and at 50 ms (the old default) 100 replicas carried 200,000 deliveries a
 * second of counts nobody needed yet (docs/SCALING.md).
 *
 * Deltas still on the wire are not seen, though: a replica whose peers' messages are late (a loaded host) would go
 * on admitting up to the whole headroom of its stale view, and so would each of them. So the publish near a limit
 * opens a sync round (sync-rounds.ts): every live peer answers it with its own counts, and until all have, the
 * key's requests here wait (at most `syncWaitMs`), then are checked against the refreshed view. A replica's admissions
 * unseen by the others are so bounded by the publish rule on a view at most one round old, however late the deltas.
 * A round costs n − 1 answers, a replica has one open at a time, and only near a limit.
 *
 * Tokens are known only when a request ends: they are counted then, and a request is admitted while the
 * window is below the limit (requests running at that moment can overshoot by their own tokens).
 * A request refused with 429 counts nothing. check() is O(1) amortised; there are no per-request timers.
 */
export class QuotaLimiter {
  private readonly keys: Lru<string, KeyState>;
  private readonly dirty = new Set<KeyState>();
  private outbox: DeltaEntry[] = [];
  private readonly peers = new Map<string, number>();
  private livePeers = 0;
  private lastPublish = 0;
  private timer: NodeJS.Timeout | undefined;
  private sub: Subscription | undefined;
  readonly stats = { published: 0, received: 0, malformed: 0, skippedEntries: 0 };
  readonly gate: FabricGate;
  private readonly skipLog = new LogThrottle(10_000);
  private readonly rounds: SyncRounds;
  private answerScheduled = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly key: FabricKey,
    private readonly replicaId: string,
    readonly options: QuotaOptions,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.keys = new Lru(options.maxKeys);
    this.gate = new FabricGate(key, 'quota deltas', log, now);
    this.rounds = new SyncRounds(options.syncWaitMs, now);
  }

  /** Sync rounds started and rounds that ended on their timeout (a peer did not answer). */
  get syncStats(): { rounds: number; timedOut: number } {
    return this.rounds.stats;
  }

  start(): void {
    this.sub = this.nc.subscribe(subjects.quotaDelta, { callback: (err, msg) => (err ? undefined : this.onDelta(msg)) });
    this.timer = setInterval(() => this.tick(), this.options.syncMs);
    this.timer.unref();
    this.publish([], { hello: true });
  }

  /** Replicas (this one included) that published within the last few seconds. */
  get replicas(): number {
    return this.livePeers + 1;
  }

  /**
   * Admits one request (and counts it), says which limit it would exceed, or, near a limit while this replica waits
   * for its peers' answers, a promise to check again on (synchronous otherwise: no promise per request).
   */
  check(keyId: string, limits: KeyLimits | null): QuotaExceeded | Promise<void> | undefined {
    if (!limits) return undefined;
    const rpm = limits.requestsPerMinute;
    const tpm = limits.tokensPerMinute;
    if (rpm === undefined && tpm === undefined) return undefined;
    const nowSec = Math.floor(this.now() / 1000);
    const st = this.state(keyId);
    st.req.advance(nowSec);
    st.tok.advance(nowSec);
    if (rpm !== undefined && st.req.sum >= rpm) return { kind: 'requests', limit: rpm, used: st.req.sum, retryAfterSec: st.req.secondsUntilBelow(rpm) };
    if (tpm !== undefined && st.tok.sum >= tpm) return { kind: 'tokens', limit: tpm, used: st.tok.sum, retryAfterSec: st.tok.secondsUntilBelow(tpm) };
    // Published near the limit and the peers have not all answered: the rest of the headroom may be theirs.
    if (st.holdRound > 0 && this.rounds.holds(st.holdRound)) return this.rounds.wait();
    this.count(st, nowSec, 1, 0);
    if (rpm !== undefined) this.maybePublishNow(st.pendReq, st.req.sum, rpm, st);
    return undefined;
  }

  /** Counts the tokens of a finished request against the key's tokens/min. */
  addTokens(keyId: string, limits: KeyLimits | null, tokens: number): void {
    const tpm = limits?.tokensPerMinute;
    if (tpm === undefined || !(tokens > 0)) return;
    const nowSec = Math.floor(this.now() / 1000);
    const st = this.state(keyId);
    this.count(st, nowSec, 0, Math.round(tokens));
    this.maybePublishNow(st.pendTok, st.tok.sum, tpm, undefined);
  }

  close(): void {
    clearInterval(this.timer);
    this.rounds.finish();
    this.publishPending();
    this.sub?.unsubscribe();
  }

  private state(keyId: string): KeyState {
    let st = this.keys.get(keyId);
    if (!st) {
      st = { id: keyId, req: new MinuteWindow(), tok: new MinuteWindow(), pendSec: 0, pendReq: 0, pendTok: 0, holdRound: 0 };
      this.keys.set(keyId, st);
    }
    return st;
  }

  private count(st: KeyState, nowSec: number, req: number, tok: number): void {
    if (st.pendSec !== nowSec && (st.pendReq > 0 || st.pendTok > 0)) this.moveToOutbox(st);
    st.pendSec = nowSec;
    st.pendReq += req;
    st.pendTok += tok;
    st.req.add(nowSec, req, nowSec);
    st.tok.add(nowSec, tok, nowSec);
    this.dirty.add(st);
  }

  /**
   * p·n ≥ limit − published, with p = unpublished here and published = sum − p (see the class comment). `hold`: the
   * key whose requests wait until the round (the open one, or one started now) is answered.
   */
  private maybePublishNow(pending: number, sum: number, limit: number, hold: KeyState | undefined): void {
    if (this.livePeers === 0 || pending === 0) return;
    const n = this.replicas;
    if (pending * n < limit - (sum - pending)) return;
    let sync: number | undefined;
    if (hold) {
      if (!this.rounds.open) sync = this.rounds.start(this.livePeerIds(this.now()));
      hold.holdRound = this.rounds.current;
    }
    this.publishPending(sync === undefined ? {} : { sync });
  }

  private *livePeerIds(now: number): Iterable<string> {
    for (const [id, seen] of this.peers) if (isLive(seen, now)) yield id;
  }

  /** One answer per turn to every round peers asked us about, with our counts (added after theirs). */
  private scheduleAnswer(): void {
    if (this.answerScheduled) return;
    this.answerScheduled = true;
    setImmediate(() => {
      this.answerScheduled = false;
      this.publishPending({ ack: this.rounds.takeOwed(MAX_DELTA_ACKS) });
    });
  }

  private moveToOutbox(st: KeyState): void {
    // Clamped to what peers accept: an entry over the limit would be skipped by every peer, not counted.
    if (st.pendReq > 0 || st.pendTok > 0) this.outbox.push([st.id, st.pendSec, Math.min(st.pendReq, MAX_DELTA_REQUESTS), Math.min(st.pendTok, MAX_DELTA_TOKENS)]);
    st.pendReq = 0;
    st.pendTok = 0;
  }

  /** Every unpublished count, in one publish (with `extra`). */
  private publishPending(extra: Pick<QuotaDelta, 'hello' | 'sync' | 'ack'> = {}): void {
    this.flushPending();
    this.publish(this.outbox, extra);
    this.outbox = [];
  }

  private flushPending(): void {
    for (const st of this.dirty) this.moveToOutbox(st);
    this.dirty.clear();
  }

  private tick(): void {
    const now = this.now();
    let live = 0;
    for (const [id, seen] of this.peers) {
      if (!isLive(seen, now)) {
        this.peers.delete(id);
        this.rounds.gone(id);
      } else live++;
    }
    this.livePeers = live;
    this.flushPending();
    if (this.outbox.length > 0 || now - this.lastPublish >= HEARTBEAT_MS) {
      this.publish(this.outbox);
      this.outbox = [];
    }
  }

  /** `extra` (hello, sync, ack) goes with the last message when the entries need several. */
  private publish(entries: DeltaEntry[], extra: Pick<QuotaDelta, 'hello' | 'sync' | 'ack'> = {}): void {
    this.lastPublish = this.now();
    let i = 0;
    do {
      const d = entries.slice(i, i + MAX_DELTA_ENTRIES);
      i += MAX_DELTA_ENTRIES;
      try {
        publishDelta(this.nc, this.key, i >= entries.length ? { from: this.replicaId, d, ...extra } : { from: this.replicaId, d });
        this.stats.published++;
      } catch (err) {
        this.log.debug({ err: (err as Error).message }, 'quota delta publish failed');
      }
    } while (i < entries.length);
  }

  private onDelta(msg: Msg): void {
    const delta = readDelta(this.gate, msg);
    if (delta === 'refused') return;
    if (!delta) {
      this.stats.malformed++;
      if (this.stats.malformed % 100 === 1) this.log.warn({ bytes: msg.data.length, malformed: this.stats.malformed }, 'malformed quota delta ignored');
      return;
    }
    if (delta.from === this.replicaId) return;
    this.stats.received++;
    if (delta.skipped > 0) {
      this.stats.skippedEntries += delta.skipped;
      const held = this.skipLog.take();
      if (held !== undefined) this.log.warn({ peer: delta.from, skippedTotal: this.stats.skippedEntries, linesHeld: held }, 'invalid quota delta entries skipped');
    }
    const now = this.now();
    const known = this.peers.has(delta.from);
    this.peers.set(delta.from, now);
    if (!known) {
      this.livePeers++;
      this.log.info({ peer: delta.from, replicas: this.replicas }, 'ingress replica joined quota sharing');
      if (delta.hello) this.publish([]);
    }
    const nowSec = Math.floor(now / 1000);
    for (const [keyId, sec, req, tok] of delta.d) {
      const st = this.state(keyId);
      st.req.add(sec, req, nowSec);
      st.tok.add(sec, tok, nowSec);
    }
    if (delta.ack) for (const [to, round] of delta.ack) if (to === this.replicaId) this.rounds.answered(delta.from, round);
    // Answered after its counts were added above, so ours go out after theirs were seen (the round's promise).
    if (delta.sync !== undefined) {
      this.rounds.owe(delta.from, delta.sync);
      this.scheduleAnswer();
    }
  }
}
