import t from 'tap';
import { DeadlineTimer } from '../src/deadline-timer.js';

const expiry = (deadline: number): { timer: DeadlineTimer; expired: Promise<number>; calls: () => number } => {
  let n = 0;
  let done!: (at: number) => void;
  const expired = new Promise<number>((r) => (done = r));
  const timer = new DeadlineTimer(deadline, () => {
    n++;
    done(Date.now());
  });
  return { timer, expired, calls: () => n };
};

t.test('a deadline past already starts no timer', async (t) => {
  const { timer, calls } = expiry(Date.now() - 1);
  t.notOk(timer.start(), 'refused: the caller fails the request at once');
  t.equal(calls(), 0, 'and the timer does not call back');
});

t.test('a deadline more than a grain away expires at the deadline, not at the rounded first wait, and once', async (t) => {
  // 1,400 ms ahead: the first wait is 1,000 ms, the rest is waited for again.
  const deadline = Date.now() + 1_400;
  const { timer, expired, calls } = expiry(deadline);
  t.ok(timer.start());
  const at = await expired;
  t.ok(at >= deadline, `expired at ${at - deadline} ms from the deadline, not before it`);
  t.equal(calls(), 1);
});

t.test('a stopped timer never expires', async (t) => {
  const stopped = expiry(Date.now() + 100);
  const later = expiry(Date.now() + 250);
  t.ok(stopped.timer.start());
  t.ok(later.timer.start());
  stopped.timer.stop();
  await later.expired;
  t.equal(stopped.calls(), 0, 'the request that ended first hears nothing of its deadline');
});
