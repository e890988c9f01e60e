/** What one dial goes to, and what it presents there. */
export interface Dial {
  url: string;
  /** The peer's id; undefined for the gateway. */
  peer: string | undefined;
  /** The tunnel token for the gateway; for a peer, the ticket it was chosen with. */
  credential: string;
}

/**
 * Where a tunnel dials next: the gateway with the tunnel token, unless a peer was chosen (a switch, a GoAway's
 * replacement, the fallback from a dead gateway), which then gets the ticket it was chosen with, never the token.
 * A peer is dialled once: any dial after it goes to the gateway again unless a peer is chosen anew.
 */
export class DialTarget {
  private next: { url: string; peer: string; credential: string } | undefined;

  constructor(
    private readonly gatewayUrl: string,
    private readonly token: string,
  ) {}

  /** The next dial goes to peer `peer` at `url`, presenting `credential` (a ticket from a terminator). */
  peer(url: string, peer: string, credential: string): void {
    this.next = { url, peer, credential };
  }

  /** A peer (elsewhere than the gateway's URL) is chosen for the next dial: it is dialled at once, not after a backoff. */
  get switching(): boolean {
    return this.next !== undefined && this.next.url !== this.gatewayUrl;
  }

  /** The dial to make now (the one after it goes to the gateway unless `peer` is called again). */
  take(): Dial {
    const next = this.next;
    this.next = undefined;
    return next ?? { url: this.gatewayUrl, peer: undefined, credential: this.token };
  }
}
