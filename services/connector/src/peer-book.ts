import type { Logger } from '@tokios/shared/log';
import type { PeerTerminator, WelcomeMeta } from '@tokios/shared/protocol';
import { TUNNEL_TICKET_TTL_MS } from '@tokios/shared/fabric-auth';
import { peerRefusal } from './peer-policy.js';

/** A ticket this close to its expiry is not presented any more (clocks and the dial take time). */
const TICKET_MARGIN_MS = 15_000;
/** A peer that could not be dialled is not tried again for this long. */
const BAD_PEER_MS = 30_000;
/** Peers remembered from Welcomes (the oldest forgotten first). */
const MAX_KNOWN_PEERS = 64;
/** Refused peers logged once each, up to this many (then the memory starts over). */
const MAX_REFUSED_LOGGED = 1024;

export interface Peer {
  id: string;
  url: string;
}

/**
 * What a connector knows of terminators beside the ones its tunnels use: the peers Welcomes named (only those the
 * peer policy allows), the freshest ticket to present to one, and the peers that could not be dialled lately.
 */
export class PeerBook {
  /**
   * Peers that could not be dialled lately: not tried again for a while (no move/fail/return loop on a peer that is
   * gone but still listed). Keyed by id: a terminator restarted at the same URL has a new id and is tried at once.
   */
  private readonly bad = new Map<string, number>();
  /** Peers already logged as refused by the peer policy (bounded). */
  private readonly refused = new Set<string>();
  /** Every terminator named in a Welcome's peer list (id -> tunnel URL): where to go when the gateway is dead. */
  private readonly known = new Map<string, string>();
  /** The freshest ticket a Welcome carried: what a fallback dial presents to a known peer. */
  private ticket: { value: string; at: number } | undefined;

  constructor(
    private readonly gatewayUrl: string,
    private readonly log: Logger,
  ) {}

  /** Only peers the peer policy allows are remembered: the fallback never leads the token anywhere a move may not. */
  learn(w: WelcomeMeta): void {
    if (w.ticket) this.ticket = { value: w.ticket, at: Date.now() };
    for (const p of this.allowed(w)) this.known.set(p.id, p.url);
    if (this.known.size > MAX_KNOWN_PEERS) this.known.delete(this.known.keys().next().value as string);
  }

  /** `id` could not be dialled: skipped for a while. */
  failed(id: string): void {
    this.bad.set(id, Date.now() + BAD_PEER_MS);
  }

  isBad(id: string, now = Date.now()): boolean {
    return (this.bad.get(id) ?? 0) > now;
  }

  /**
   * The Welcome's peers this connector may move to (peer-policy.ts): on the gateway's host or the operator's
   * allow-list, never from wss to ws. A refused peer is logged once (its id and why, not its URL).
   */
  allowed(w: WelcomeMeta): PeerTerminator[] {
    return w.peers.filter((p) => {
      const refusal = peerRefusal(this.gatewayUrl, p.url, w.peerHosts);
      if (refusal && !this.refused.has(p.id)) {
        if (this.refused.size >= MAX_REFUSED_LOGGED) this.refused.clear();
        this.refused.add(p.id);
        this.log.warn({ peerId: p.id, reason: refusal }, 'peer terminator refused; not moving a tunnel there');
      }
      return refusal === undefined;
    });
  }

  /** A known terminator for a tunnel whose gateway keeps failing: one not in `used` first, never a bad one. */
  fallback(used: ReadonlySet<string | undefined>): (Peer & { ticket: string }) | undefined {
    const now = Date.now();
    // A peer never gets the tunnel token, only a ticket from a terminator's Welcome: without a fresh one, no fallback.
    const ticket = this.ticket && now - this.ticket.at < TUNNEL_TICKET_TTL_MS - TICKET_MARGIN_MS ? this.ticket.value : undefined;
    if (!ticket) return undefined;
    const usable = [...this.known].filter(([id]) => !this.isBad(id, now)).map(([id, url]) => ({ id, url }));
    const peer = usable.find((p) => !used.has(p.id)) ?? usable[0];
    return peer && { ...peer, ticket };
  }
}
