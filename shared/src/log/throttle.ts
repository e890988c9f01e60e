/**
 * Lets a recurring log line through at most once per `everyMs` per key, and says how many it held back, so a
 * flood (reconnect attempts, dropped messages) costs one line per interval. Keys are our own constants, never
 * strings from the network, so the map stays small.
 */
export class LogThrottle {
  private readonly last = new Map<string, { at: number; held: number }>();

  constructor(
    private readonly everyMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** undefined: skip this line; a number: log it, with that many lines suppressed since the previous one. */
  take(key = ''): number | undefined {
    const now = this.now();
    const s = this.last.get(key);
    if (s && now - s.at < this.everyMs) {
      s.held++;
      return undefined;
    }
    const held = s?.held ?? 0;
    this.last.set(key, { at: now, held: 0 });
    return held;
  }
}
