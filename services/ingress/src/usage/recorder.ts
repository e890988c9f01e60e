import type { Logger } from '@tokios/shared/log';
import type { Store, UsageRecord } from '@tokios/shared/store';

export interface UsageRecorderOptions {
  /** A batch is written at least this often while records wait. */
  flushMs: number;
  /** Records per store call; reaching it triggers a write without waiting for the timer. */
  batchSize: number;
  /** Records kept while the store is away; beyond it the oldest are dropped (and counted). */
  maxBuffered: number;
}

export const defaultUsageRecorderOptions = (): UsageRecorderOptions => ({ flushMs: 1_000, batchSize: 500, maxBuffered: 100_000 });

/**
 * Usage records off the hot path: `record` only appends to memory. One writer drains the buffer to
 * `store.recordUsage` in batches (timer, or at once when a batch is full); a failed batch goes back to the
 * front and is retried on the next tick (records are idempotent per id, so a retry after a timeout is safe).
 * The buffer is bounded: when the store is away long enough, the oldest records are dropped with a warning.
 */
export class UsageRecorder {
  private buffer: UsageRecord[] = [];
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private kick: NodeJS.Immediate | undefined;
  private droppedSinceWarn = 0;
  private failing = false;
  /** Totals since start, for tests and logs. */
  readonly stats = { recorded: 0, written: 0, dropped: 0, failedWrites: 0 };

  constructor(
    private readonly store: Store,
    readonly options: UsageRecorderOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.drain(), this.options.flushMs);
    this.timer.unref();
  }

  get buffered(): number {
    return this.buffer.length;
  }

  record(r: UsageRecord): void {
    this.buffer.push(r);
    this.stats.recorded++;
    if (this.buffer.length > this.options.maxBuffered) this.dropOldest();
    if (this.buffer.length >= this.options.batchSize && !this.writing && !this.kick) {
      this.kick = setImmediate(() => {
        this.kick = undefined;
        this.drain();
      });
    }
  }

  /** Starts a write unless one is running. */
  private drain(): void {
    if (this.writing || this.buffer.length === 0) return;
    this.writing = this.writeAll().finally(() => (this.writing = undefined));
  }

  private async writeAll(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.options.batchSize);
      try {
        await this.store.recordUsage(batch);
        this.stats.written += batch.length;
        if (this.failing) {
          this.failing = false;
          this.log.info({ buffered: this.buffer.length }, 'usage writes recovered');
        }
      } catch (err) {
        this.stats.failedWrites++;
        this.buffer = batch.concat(this.buffer);
        if (this.buffer.length > this.options.maxBuffered) this.dropOldest();
        if (!this.failing) {
          this.failing = true;
          this.log.warn({ err: (err as Error).message, buffered: this.buffer.length }, 'usage write failed; keeping records and retrying');
        }
        return;
      }
    }
  }

  private dropOldest(): void {
    // Drop a slice at a time so a full buffer does not shift the array on every request.
    const n = Math.max(this.buffer.length - this.options.maxBuffered, Math.ceil(this.options.maxBuffered / 100));
    this.buffer.splice(0, n);
    this.stats.dropped += n;
    this.droppedSinceWarn += n;
    this.log.warn({ dropped: this.droppedSinceWarn, droppedTotal: this.stats.dropped, kept: this.buffer.length }, 'usage buffer full: oldest records dropped');
    this.droppedSinceWarn = 0;
  }

  /** Stops the timer and writes what is left, giving up after `timeoutMs`. */
  async close(timeoutMs = 5_000): Promise<void> {
    clearInterval(this.timer);
    if (this.kick) clearImmediate(this.kick);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.writing) this.drain();
      const w = this.writing;
      if (!w) break;
      let t: NodeJS.Timeout | undefined;
      await Promise.race([w, new Promise((r) => (t = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(t);
      if (this.failing) await new Promise((r) => setTimeout(r, 100));
    }
    if (this.buffer.length > 0) this.log.warn({ lost: this.buffer.length }, 'usage records not written before shutdown');
  }
}
