/** How long a revoked token id is refused from memory (covers store caches that have not caught up yet). */
const REVOKED_MEMORY_MS = 10 * 60_000;

/** Token ids revoked by a control event, refused without asking the store until the store has surely caught up. */
export class RevokedTokens {
  private readonly until = new Map<string, number>();

  add(tokenId: string): void {
    const now = Date.now();
    this.until.set(tokenId, now + REVOKED_MEMORY_MS);
    for (const [id, t] of this.until) if (t < now) this.until.delete(id);
  }

  has(tokenId: string): boolean {
    const t = this.until.get(tokenId);
    return t !== undefined && t > Date.now();
  }
}
