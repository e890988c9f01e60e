import t from 'tap';
import { AckBatcher, type DeferredAck } from '../src/ack-batcher.js';

/** A stream-side Ack that records when it was published. */
class Ack implements DeferredAck {
  flushed = 0;
  private resolve: () => void = () => undefined;
  readonly published = new Promise<void>((r) => (this.resolve = r));
  flushAck(): void {
    this.flushed++;
    this.resolve();
  }
}

t.test('Acks wait for the shared timer, then all leave together', async (t) => {
  const batcher = new AckBatcher(5);
  const a = new Ack();
  const b = new Ack();
  batcher.add(a);
  batcher.add(b);
  t.equal(a.flushed + b.flushed, 0, 'nothing is published at once');
  await Promise.all([a.published, b.published]);
  t.equal(a.flushed, 1);
  t.equal(b.flushed, 1);
  const c = new Ack();
  batcher.add(c);
  await c.published;
  t.equal(c.flushed, 1, 'a later Ack gets a new timer');
  t.equal(a.flushed, 1, 'earlier ones are not flushed again');
});

t.test('an Ack that left with an answer frame is taken out; close flushes the rest at once', async (t) => {
  const batcher = new AckBatcher(60_000);
  const gone = new Ack();
  const waiting = new Ack();
  batcher.add(gone);
  batcher.add(waiting);
  batcher.delete(gone);
  batcher.close();
  t.equal(waiting.flushed, 1, 'close publishes what still waits');
  t.equal(gone.flushed, 0, 'a deleted Ack is not published by the batcher');
});

t.test('the timer is disarmed when the last waiting Ack left with an answer frame', async (t) => {
  const batcher = new AckBatcher(60_000);
  const a = new Ack();
  const b = new Ack();
  batcher.add(a);
  batcher.add(b);
  t.ok(batcher.armed);
  batcher.delete(a);
  t.ok(batcher.armed, 'armed while one still waits');
  batcher.delete(b);
  t.notOk(batcher.armed, 'no timer left to fire for nothing');
  batcher.delete(b);
  t.notOk(batcher.armed, 'deleting again changes nothing');
  const c = new Ack();
  batcher.add(c);
  t.ok(batcher.armed, 'the next Ack arms it again');
  batcher.close();
  t.equal(c.flushed, 1);
  t.notOk(batcher.armed);
});

t.test('an Ack added just before the timer fires waits for its own deadline, not the oldest one', async (t) => {
  // The batcher's clock is ours: whenever the real timer fires, it sees the times set here.
  let now = 0;
  const batcher = new AckBatcher(10, () => now);
  const old = new Ack();
  batcher.add(old);
  now = 9;
  const young = new Ack();
  batcher.add(young);
  now = 10;
  await old.published;
  t.equal(young.flushed, 0, 'the young Ack still waits when the old one leaves');
  t.ok(batcher.armed, 'the timer is armed again for it');
  now = 19;
  await young.published;
  t.equal(young.flushed, 1);
  t.notOk(batcher.armed, 'nothing left: no timer');
});
