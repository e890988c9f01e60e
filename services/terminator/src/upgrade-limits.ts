import { LogThrottle, type Logger } from '@tokios/shared/log';
import type { TunnelRegistry } from './registry.js';
import type { Tunnel } from './tunnel.js';
import type { TunnelGrant } from './tunnel-session.js';

/** Tokens whose upgrade rate is tracked at once; beyond, the oldest buckets are forgotten (they refill anyway). */
const MAX_BUCKETS = 10_000;

/**
 * Per-token limits on tunnel upgrades, checked after the token is authenticated: at most `maxTunnels` live tunnels
 * per token on this terminator, and at most `perMinute` upgrades per token per minute (a token bucket, so a
 * connector restarting or moving its few tunnels is never refused). A leaked or abused token cannot make a
 * terminator hold thousands of sockets or hammer the store with upgrades.
 */
export class UpgradeLimits {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly throttle = new LogThrottle(10_000);

  constructor(
    private readonly maxTunnels: number,
    private readonly perMinute: number,
    private readonly registry: TunnelRegistry<Tunnel>,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Why an upgrade with this token is refused now, or undefined (and then it is counted). A token belongs to one
   * deployment, so only that deployment's tunnels are counted: the check costs the token's few tunnels, not all
   * of the terminator's (10,000 upgrades against 10,000 tunnels would be O(K²)).
   */
  refusal(grant: Pick<TunnelGrant, 'tokenId' | 'deploymentId'>): string | undefined {
    const { tokenId } = grant;
    let live = 0;
    for (const t of this.registry.tunnels(grant.deploymentId)) if (t.tokenId === tokenId && !t.closed) live++;
    if (live >= this.maxTunnels) return `this tunnel token already holds ${live} tunnels here (at most ${this.maxTunnels})`;
    const now = this.now();
    let b = this.buckets.get(tokenId);
    if (!b) {
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: this.perMinute, at: now };
      this.buckets.set(tokenId, b);
    }
    b.tokens = Math.min(this.perMinute, b.tokens + ((now - b.at) * this.perMinute) / 60_000);
    b.at = now;
    if (b.tokens < 1) return `too many tunnel upgrades with this token (at most ${this.perMinute} a minute)`;
    b.tokens -= 1;
    return undefined;
  }

  /** One line per 10 s, whatever the flood (the count says how many were held back). */
  logRefusal(log: Logger, grant: TunnelGrant, reason: string): void {
    const held = this.throttle.take();
    if (held !== undefined) log.warn({ tokenId: grant.tokenId, deploymentId: grant.deploymentId, reason, refusedSinceLast: held }, 'tunnel upgrade refused');
  }
}
