import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { LogThrottle } from '../log/throttle.js';

/**
 * Signed fabric messages: control events, terminator presence and quota deltas carry an HMAC-SHA256 keyed by
 * `TOKIOS_FABRIC_SECRET`, so that a client that may publish on NATS but does not hold the secret cannot revoke a
 * tunnel, steer connectors or 429 a key. The header (docs/SECURITY.md "services ↔ NATS"):
 *
 *   Tokios-Sig: v1.<unix ms>.<nonce>.<base64url HMAC-SHA256(secret, "v1\n" subject "\n" ms "\n" nonce "\n" body)>
 *
 * Receivers drop a message that is unsigned, badly signed, more than MAX_SKEW_MS away from their clock, or a
 * replay of one they already accepted. Without a secret nothing is signed or checked (with a startup warning).
 */
export const SIGNATURE_HEADER = 'Tokios-Sig';
export const MAX_SKEW_MS = 30_000;
const VERSION = 'v1';
const SIG = /^v1\.(\d{13})\.([0-9a-f]{8,40})\.([A-Za-z0-9_-]{43})$/;

export type Verdict = 'ok' | 'unsigned' | 'bad_signature' | 'stale';
export type DropReason = Exclude<Verdict, 'ok'> | 'replayed';

export class FabricKey {
  private readonly key: Buffer | undefined;
  /** Unique per process; with the counter, makes every signature unique (replays are recognisable). */
  private readonly noncePrefix = randomBytes(6).toString('hex');
  private counter = 0;

  constructor(secret: string | undefined) {
    this.key = secret === undefined ? undefined : Buffer.from(secret, 'utf8');
  }

  /** False: no secret configured, messages go unsigned and are accepted unchecked. */
  get enabled(): boolean {
    return this.key !== undefined;
  }

  private mac(subject: string, ms: string, nonce: string, body: Uint8Array): string {
    return createHmac('sha256', this.key!).update(`${VERSION}\n${subject}\n${ms}\n${nonce}\n`).update(body).digest('base64url');
  }

  /** HMAC-SHA256 of `text` under a purpose label (domain separation from message signatures), undefined without a secret. */
  tag(purpose: string, text: string): string | undefined {
    if (!this.key) return undefined;
    return createHmac('sha256', this.key).update(`${purpose}\n${text}`).digest('base64url');
  }

  /** The signature header value for this message, or undefined without a secret. */
  signature(subject: string, body: Uint8Array, now = Date.now()): string | undefined {
    if (!this.key) return undefined;
    const ms = String(now);
    const nonce = `${this.noncePrefix}${(this.counter++ >>> 0).toString(16).padStart(8, '0')}`;
    return `${VERSION}.${ms}.${nonce}.${this.mac(subject, ms, nonce, body)}`;
  }

  /** Headers to publish with (undefined without a secret). */
  headers(subject: string, body: Uint8Array, now = Date.now()): MsgHdrs | undefined {
    const sig = this.signature(subject, body, now);
    if (sig === undefined) return undefined;
    const h = natsHeaders();
    h.set(SIGNATURE_HEADER, sig);
    return h;
  }

  /** Checks a received message's signature (not replays: see FabricGate). */
  verify(subject: string, body: Uint8Array, sig: string | undefined, now = Date.now()): Verdict {
    if (!this.key) return 'ok';
    const m = sig ? SIG.exec(sig) : null;
    if (!m) return sig ? 'bad_signature' : 'unsigned';
    const [, ms, nonce, mac] = m as unknown as [string, string, string, string];
    const expected = Buffer.from(this.mac(subject, ms, nonce, body));
    if (!timingSafeEqual(expected, Buffer.from(mac))) return 'bad_signature';
    return Math.abs(now - Number(ms)) > MAX_SKEW_MS ? 'stale' : 'ok';
  }
}

/** Publishes `body` on `subject`, signed when the key has a secret. */
export function publishSigned(nc: NatsConnection, key: FabricKey, subject: string, body: Uint8Array | string): void {
  const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const headers = key.headers(subject, data);
  nc.publish(subject, data, headers ? { headers } : undefined);
}

const LOG_EVERY_MS = 10_000;
/** Signatures remembered for replay detection: at least 2 × MAX_SKEW_MS (clock skew either way). */
const REPLAY_WINDOW_MS = 2 * MAX_SKEW_MS;
const REPLAY_MAX_ENTRIES = 200_000;

/**
 * One receiver's check on signed messages: accept() says whether to act on a message; drops are counted by
 * reason and logged at most once per 10 s (ids and counts only, never message contents).
 */
export class FabricGate {
  readonly dropped: Record<DropReason, number> = { unsigned: 0, bad_signature: 0, stale: 0, replayed: 0 };
  private readonly throttle: LogThrottle;
  private seen = new Set<string>();
  private seenBefore = new Set<string>();
  private rotatedAt: number;

  constructor(
    private readonly key: FabricKey,
    /** What this receiver takes, for the log line (e.g. "quota deltas"). */
    private readonly what: string,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.rotatedAt = now();
    this.throttle = new LogThrottle(LOG_EVERY_MS, now);
  }

  accept(msg: Pick<Msg, 'subject' | 'data' | 'headers'>): boolean {
    if (!this.key.enabled) return true;
    const now = this.now();
    const sig = msg.headers?.get(SIGNATURE_HEADER) || undefined;
    const verdict = this.key.verify(msg.subject, msg.data, sig, now);
    if (verdict !== 'ok') return this.drop(verdict, msg.subject);
    if (now - this.rotatedAt >= REPLAY_WINDOW_MS || this.seen.size >= REPLAY_MAX_ENTRIES) {
      this.seenBefore = this.seen;
      this.seen = new Set();
      this.rotatedAt = now;
    }
    const id = sig!.slice(-43);
    if (this.seen.has(id) || this.seenBefore.has(id)) return this.drop('replayed', msg.subject);
    this.seen.add(id);
    return true;
  }

  private drop(reason: DropReason, subject: string): false {
    this.dropped[reason]++;
    const held = this.throttle.take();
    if (held !== undefined) {
      this.log.warn({ what: this.what, subject, reason, dropped: { ...this.dropped } }, 'fabric message dropped: unsigned, badly signed, stale or replayed (see docs/SECURITY.md)');
    }
    return false;
  }
}

export { TUNNEL_TICKET_PREFIX, TUNNEL_TICKET_TTL_MS, issueTunnelTicket, isTunnelTicket, verifyTunnelTicket, type TunnelTicket } from './ticket.js';
