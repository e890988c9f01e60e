import { decodeFrame, frameKindName, type Frame, type FrameKind, type FrameOf } from '@tokios/shared/protocol';

/** Decoded frames in arrival order, awaited one at a time (a scripted peer's view of one hop). */
export class FrameQueue {
  private readonly frames: Frame[] = [];
  private readonly waiters: ((f: Frame) => void)[] = [];
  /** Size of the largest encoded frame pushed so far. */
  largest = 0;

  constructor(private readonly name: string) {}

  /** Decodes and queues an encoded frame (a copy: the sender may reuse its buffer). */
  push(data: Uint8Array): void {
    this.largest = Math.max(this.largest, data.byteLength);
    const f = decodeFrame(Buffer.from(data));
    const w = this.waiters.shift();
    if (w) w(f);
    else this.frames.push(f);
  }

  /** Frames that arrived and were not taken yet. */
  get queued(): readonly Frame[] {
    return this.frames;
  }

  /** The next frame; rejects after `timeoutMs` (so a missing frame fails the test with a name, not a hang). */
  next(timeoutMs = 10_000): Promise<Frame> {
    const f = this.frames.shift();
    if (f) return Promise.resolve(f);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`${this.name}: no frame within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (frame: Frame): void => {
        clearTimeout(timer);
        resolve(frame);
      };
      this.waiters.push(waiter);
    });
  }

  /** The next frame, which must be of `kind`. */
  async expect<K extends FrameKind>(kind: K, timeoutMs?: number): Promise<FrameOf<K>> {
    const f = await this.next(timeoutMs);
    if (f.kind !== kind) throw new Error(`${this.name}: expected ${frameKindName(kind)}, got ${frameKindName(f.kind)} ${JSON.stringify(f.meta) ?? ''}`);
    return f as FrameOf<K>;
  }
}
