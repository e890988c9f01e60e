import { randomBytes } from 'node:crypto';
import type { Msg, NatsConnection, Subscription } from 'nats';
import type { Logger } from '@tokios/shared/log';
import { parseTerminatorSubject, subjects, tailToken, token, wildcard } from '@tokios/shared/subjects';
import { DEFAULT_NATS_MAX_PAYLOAD, FrameKind, PAIR_ROUND_END, PAIR_ROUND_HEADER, ProtocolError, decodePairHeartbeat, encodeFrame, lastFrameKind, type RejectMeta, type StreamBeat } from '@tokios/shared/protocol';
import { TokiosError } from '@tokios/shared/errors';
import { NatsState } from '@tokios/shared/ops';
import { FabricKey } from '@tokios/shared/fabric-auth';
import type { IngressOptions } from './config.js';
import { Call, type CallHandlers, type CallInput } from './call.js';
import type { CallDispatch } from './call-dispatch.js';
import { SessionHomes } from './affinity/homes.js';
import { TerminatorWatches } from './terminator-watch.js';
import { LinkProbe } from './link-probe.js';
import { RequestTurn } from './request-turn.js';
import type { AffinityResult } from './affinity/placement.js';

/** What the fabric reports about placement (the ingress metrics). */
export interface FabricObserver {
  /** A terminator took the request `waitedMs` after it was first published. */
  acked(deploymentId: string, waitedMs: number): void;
  rejected(reason: RejectMeta['reason']): void;
  /** A request was acked: where it landed relative to its session's home. */
  placed(result: AffinityResult): void;
  /** An alias's call moved on to its next target (nothing had been answered). */
  fellBack(why: FallbackReason): void;
}

export type FallbackReason = 'no_responders' | 'no_ack' | RejectMeta['reason'];

export { Call, MAX_REQUEST_SENDS, MAX_SENT_BODY_BYTES, NO_RESPONDERS_WINDOW_MS, type CallHandlers, type CallInput } from './call.js';

/**
 * A Cancel is kept this long and published again after a NATS reconnect: nats.js drops whatever was published while
 * the connection was down, and a lost Cancel would leave the model generating for nobody.
 */
const CANCEL_RESEND_MS = 5_000;
const MAX_KEPT_CANCELS = 10_000;
/** Frames that keep coming for a request this ingress no longer tracks get one Cancel per this interval. */
const ORPHAN_CANCEL_EVERY_MS = 250;
/** A malformed PairHeartbeat is logged at most this often (a broken terminator sends several a second). */
const BAD_BEAT_LOG_EVERY_MS = 10_000;
/** A terminator not read from for this long is forgotten (its streams failed after the stall timeout). */
const FORGET_TERMINATOR_MS = 60_000;

/** The ingress side of NATS: one inbox subscription for every request this process has in flight. */
export class FabricClient {
  readonly id = `ing_${randomBytes(6).toString('hex')}`;
  private readonly pending = new Map<string, CallDispatch>();
  /** What was read from each terminator that acked a stream of ours: the stall check's clock (terminator-watch.ts). */
  readonly watches = new TerminatorWatches(FORGET_TERMINATOR_MS);
  /** Cancels of the last CANCEL_RESEND_MS by control subject, oldest first: re-published after a reconnect. */
  private readonly cancels = new Map<string, { frame: Buffer; at: number }>();
  private sub: Subscription | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly inboxPrefix: string;
  private readonly pairPrefix: string;
  private badBeatLoggedAt = 0;
  /** Every rid of this ingress starts so (newCallId). */
  private readonly callPrefix = `${this.id}_`;
  private readonly nats: NatsState;
  /** How far our own NATS link has confirmed what was read (the stall check's judge of a quiet terminator). */
  readonly link: LinkProbe;
  /** Requests published at the end of the turn, in one NATS write. */
  readonly requests: RequestTurn;
  /** Set by the app: placement timings for the metrics. */
  observer: FabricObserver | undefined;
  /** Session homes for cache-affine placement; undefined when affinity is off (TOKIOS_AFFINITY=off). */
  readonly homes: SessionHomes | undefined;
  private calls = 0;
  /**
   * False from a NATS disconnect to the reconnect, as this client's own status watch sees it (calls are held
   * meanwhile, up to the Ack timeout): the same watch publishes the held calls on reconnect, so the two never race.
   */
  linkUp = true;
  downSince = 0;

  constructor(
    readonly nc: NatsConnection,
    readonly options: IngressOptions,
    readonly log: Logger,
  ) {
    this.inboxPrefix = subjects.ingressInboxPrefix(this.id);
    this.pairPrefix = subjects.pairHeartbeatPrefix(this.id);
    this.nats = new NatsState(nc);
    this.requests = new RequestTurn(nc);
    this.link = new LinkProbe(nc, () => setImmediate(() => this.sweep()));
    const affinity = options.affinity;
    this.homes = affinity?.enabled ? new SessionHomes(nc, new FabricKey(options.fabricSecret), this.id, affinity, log) : undefined;
  }

  /** NATS is connected now (readiness; calls are held across a reconnect, up to the Ack timeout, see linkUp). */
  get connected(): boolean {
    return this.nats.up;
  }

  start(): void {
    this.sub = this.nc.subscribe(wildcard(this.inboxPrefix), {
      callback: (_err, msg) => {
        const rid = tailToken(msg.subject, this.inboxPrefix);
        if (!rid) return this.onPairHeartbeat(msg);
        const call = this.pending.get(rid);
        if (call) call.onMessage(msg);
        else this.orphan(rid, msg);
      },
    });
    // Often enough that a dead terminator is noticed within the stall timeout plus one tick (<= 1 s by default).
    const every = Math.max(20, Math.min(100, Math.floor(Math.min(this.options.ackTimeoutMs, this.options.stallTimeoutMs) / 4)));
    // Judged after the I/O already waiting: an interval fires in the timers phase, before the sockets are read, so
    // after this process was itself paused (a starved CPU, a long GC) every stream would look silent while its frames
    // sit unread in the NATS socket, and all would fail at once. setImmediate runs after this turn has read them.
    this.sweeper = setInterval(() => setImmediate(() => this.sweep()), every);
    this.sweeper.unref();
    this.homes?.start();
    void this.watch();
  }

  /** Every call's timers (Ack, stall, deadline), then the bookkeeping: each sweep tick, and when the link confirmed what was read. */
  private sweep(): void {
    const now = Date.now();
    for (const c of [...this.pending.values()]) c.checkTimers(now);
    this.pruneCancels(now);
    this.watches.prune(now);
  }

  /** `<ingress id>_<counter>`: unique across ingresses (terminators key streams by it) and within 64 characters. */
  newCallId(): string {
    return `${this.callPrefix}${(++this.calls).toString(36)}`;
  }

  call(input: CallInput, handlers: CallHandlers): Call {
    const c = new Call(this, input, handlers);
    c.send();
    return c;
  }

  /** subjects.ingressInbox(this.id, rid), from the prefix checked once (one token check per request, not two). */
  inbox(rid: string): string {
    return `${this.inboxPrefix}${token(rid)}`;
  }

  maxPayload(): number {
    return this.nc.info?.max_payload ?? DEFAULT_NATS_MAX_PAYLOAD;
  }

  track(c: CallDispatch): void {
    this.pending.set(c.id, c);
  }

  forget(c: CallDispatch): void {
    if (this.pending.get(c.id) === c) this.pending.delete(c.id);
  }

  /**
   * A terminator's PairHeartbeat (`tokios.in.<us>.hb.<terminator>`): each listed stream of ours that this terminator
   * acked is alive (and says how many answer frames it published); one of this ingress's rids that it no longer
   * tracks is a generation going on for nobody, told to stop like an orphan frame (no other rid: an ingress cancels
   * only what it asked for). Anything malformed is refused whole. The round's last message (PAIR_ROUND_HEADER)
   * advances that terminator's round count, after its entries were taken.
   */
  private onPairHeartbeat(msg: Msg): void {
    const terminatorId = tailToken(msg.subject, this.pairPrefix);
    if (!terminatorId || msg.data.length === 0) return;
    let beats: StreamBeat[];
    try {
      beats = decodePairHeartbeat(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength));
    } catch (err) {
      const now = Date.now();
      if (err instanceof ProtocolError && now - this.badBeatLoggedAt >= BAD_BEAT_LOG_EVERY_MS) {
        this.badBeatLoggedAt = now;
        this.log.warn({ terminatorId, err: err.message }, 'malformed pair heartbeat; dropped');
      }
      return;
    }
    const now = Date.now();
    for (const { rid, published } of beats) {
      const call = this.pending.get(rid);
      if (!call) {
        if (rid.startsWith(this.callPrefix)) this.orphanCancel(subjects.terminator(terminatorId, rid), now);
      }
      else if (call.terminatorId === terminatorId) call.beat(published, now);
    }
    const watch = this.watches.get(terminatorId);
    if (!watch) return;
    if (msg.headers?.get(PAIR_ROUND_HEADER) === PAIR_ROUND_END) watch.roundEnded(now);
    else watch.read(now);
  }

  /**
   * A frame for a request this ingress no longer tracks: the caller left, or the call failed or was retried elsewhere
   * before that terminator's Ack or frames arrived (also after a NATS reconnect that lost the first Cancel). Its
   * sender is told to stop, or the model would keep generating for nobody. The sender is the frame's reply subject,
   * untrusted: only a terminator subject for this very request gets the Cancel.
   */
  private orphan(rid: string, msg: Msg): void {
    if (msg.data.length === 0) return; // a no-responders notice: nobody to tell
    const kind = lastFrameKind(msg.data);
    if (kind === FrameKind.End || kind === FrameKind.Error || kind === FrameKind.Reject) return; // over anyway
    const reply = msg.reply;
    if (!reply || parseTerminatorSubject(reply)?.rid !== rid) return;
    this.orphanCancel(reply, Date.now());
  }

  /** A Cancel to a terminator subject of a request this ingress does not track, at most one per ORPHAN_CANCEL_EVERY_MS. */
  private orphanCancel(subject: string, now: number): void {
    const last = this.cancels.get(subject);
    if (last && now - last.at < ORPHAN_CANCEL_EVERY_MS) return;
    this.sendCancel(subject, 'caller gone');
  }

  /** Publishes a Cancel to a terminator's control subject, and keeps it to publish again after a reconnect. */
  sendCancel(subject: string, reason: string): void {
    const frame = encodeFrame(FrameKind.Cancel, 0, { reason });
    this.cancels.delete(subject);
    this.cancels.set(subject, { frame, at: Date.now() });
    if (this.cancels.size > MAX_KEPT_CANCELS) this.cancels.delete(this.cancels.keys().next().value as string);
    this.publishControl(subject, frame);
  }

  private pruneCancels(now: number): void {
    for (const [subject, c] of this.cancels) {
      if (now - c.at < CANCEL_RESEND_MS) break;
      this.cancels.delete(subject);
    }
  }

  /** After a reconnect: every recent Cancel again (a terminator ignores one for a stream it no longer has). */
  private resendCancels(): void {
    this.pruneCancels(Date.now());
    for (const [subject, c] of this.cancels) this.publishControl(subject, c.frame);
  }

  publishControl(subject: string, frame: Uint8Array, reply?: string): void {
    try {
      this.nc.publish(subject, frame, reply ? { reply } : undefined);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'control publish failed');
    }
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Publishes made while NATS reconnects are lost. Calls are held instead of failed (each fails once the outage
   * outlasts the Ack timeout, see Call.checkTimers); after the reconnect, Cancels go again and every call picks up
   * where it was (Call.onReconnect).
   */
  private async watch(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect' && this.linkUp) {
        this.linkUp = false;
        this.downSince = Date.now();
      } else if (s.type === 'reconnect') {
        this.linkUp = true;
        this.resendCancels();
        for (const c of [...this.pending.values()]) c.onReconnect();
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.homes?.close();
    for (const c of [...this.pending.values()]) c.fail(new TokiosError('fabric_unavailable', 'ingress shutting down'));
    this.sub?.unsubscribe();
  }
}
