import t from 'tap';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { CallerFlow, MAX_HOLD_MS, MIN_HOLD_MS } from '../src/caller-flow.js';

const PAUSE_AT = 1_000;
/**
 * The re-pause window is a minute here, so a busy machine never makes a quick re-pause look slow; the test of a
 * late re-pause narrows it (CallerFlow reads it at each pause).
 */
const options = () => ({ pauseUnsentBytes: PAUSE_AT, maxUnsentAnswerBytes: 1_000_000, maxCallerPauseMs: 60_000, repauseWindowMs: 60_000 });

/** A real Writable standing in for the caller's response: it takes nothing until `release()` (then `drain` fires). */
class HeldSocket extends Writable {
  private held: Array<() => void> = [];
  constructor() {
    super({ highWaterMark: 16 });
  }
  override _write(_chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.held.push(cb);
  }
  release(): void {
    const cbs = this.held;
    this.held = [];
    for (const cb of cbs) cb();
  }
}

function harness() {
  const res = new HeldSocket();
  const events: string[] = [];
  let unpaused: () => void = () => undefined;
  /** When the last overfill paused the stream: a hold counts from the pause, not from the drain. */
  let overfilledAt = 0;
  const opts = options();
  const flow = new CallerFlow(res, opts, {
    pause: () => events.push('pause'),
    unpause: () => {
      events.push('unpause');
      unpaused();
    },
    giveUp: () => events.push('give up'),
  });
  /** Writes past the pause mark, as the proxy does: `congested()` after a write the socket did not take. */
  const overfill = (): void => {
    overfilledAt = Date.now();
    if (!res.write(Buffer.alloc(PAUSE_AT + 1))) flow.congested();
  };
  /** The caller takes everything; resolves (with the ms since the overfill that paused) once the stream is unpaused. */
  const drainAndWait = async (): Promise<{ sync: boolean; ms: number }> => {
    const done = new Promise<void>((r) => (unpaused = r));
    const before = events.length;
    const drained = once(res, 'drain');
    res.release();
    await drained;
    const sync = events.length > before;
    await done;
    return { sync, ms: Date.now() - overfilledAt };
  };
  return { res, opts, flow, events, overfill, drainAndWait };
}

// CallerFlow's timers are unref'd (a server keeps the process alive); here this does.
const keepAlive = setInterval(() => undefined, 1_000);
t.teardown(() => clearInterval(keepAlive));

t.test('a first pause flows again as soon as the caller drains', async (t) => {
  const h = harness();
  h.overfill();
  t.same(h.events, ['pause'], 'past the pause mark: paused');
  t.ok(h.flow.paused);
  const r = await h.drainAndWait();
  t.ok(r.sync, 'unpaused at the drain itself');
  t.notOk(h.flow.paused);
  h.flow.stop();
});

t.test('a stream that pauses again right after each Unpause is held longer each time, up to a bound', async (t) => {
  const h = harness();
  h.overfill();
  await h.drainAndWait();
  let want = MIN_HOLD_MS;
  for (let i = 0; i < 3; i++) {
    h.overfill(); // within the re-pause window of the last Unpause
    const r = await h.drainAndWait();
    t.notOk(r.sync, `re-pause ${i + 1}: the drain alone does not unpause`);
    // Timers never fire early; Date.now() may round down by a millisecond.
    t.ok(r.ms >= want - 1, `re-pause ${i + 1}: held ${r.ms} ms, at least ${want}`);
    want = Math.min(MAX_HOLD_MS, want * 2);
  }
  t.same(h.events.filter((e) => e === 'give up'), [], 'a caller that drains is never given up');
  h.flow.stop();
});

t.test('a pause long after the last Unpause starts without a hold again', async (t) => {
  const h = harness();
  h.overfill();
  await h.drainAndWait();
  h.overfill();
  t.notOk((await h.drainAndWait()).sync, 'a quick re-pause is held');
  h.opts.repauseWindowMs = 5;
  await delay(10); // the condition itself is time passing
  h.overfill();
  t.ok((await h.drainAndWait()).sync, 'unpaused at the drain');
  h.flow.stop();
});

t.test('stop() ends a held pause: no Unpause once the stream is over', async (t) => {
  const h = harness();
  h.overfill();
  await h.drainAndWait();
  h.overfill();
  const drained = once(h.res, 'drain');
  h.res.release();
  await drained;
  t.equal(h.events.at(-1), 'pause', 'held: no Unpause yet');
  h.flow.stop();
  const n = h.events.length;
  await delay(MIN_HOLD_MS * 3);
  t.equal(h.events.length, n, 'nothing after stop()');
});
