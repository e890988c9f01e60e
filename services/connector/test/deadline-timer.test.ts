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

t.test('a deadline expires at the deadline, not before it, and once', async (t) => {
  const deadline = Date.now() + 400;
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

t.test('an earlier deadline started after a later one expires first; the later one still expires after it', async (t) => {
  const later = expiry(Date.now() + 400);
  const earlier = expiry(Date.now() + 100);
  t.ok(later.timer.start());
  t.ok(earlier.timer.start());
  const first = await earlier.expired;
  t.equal(later.calls(), 0, 'the later deadline has not expired with the earlier one');
  const second = await later.expired;
  t.ok(second >= first && later.timer.deadline <= second, 'each at its own deadline');
  t.equal(earlier.calls(), 1);
  t.equal(later.calls(), 1);
});

t.test('deadlines that passed together expire together, and one that stops another in its callback stops it', async (t) => {
  const at = Date.now() + 100;
  let second: DeadlineTimer | undefined;
  let calls = 0;
  const first = new DeadlineTimer(at, () => {
    calls++;
    second?.stop();
  });
  second = new DeadlineTimer(at, () => calls++);
  const third = expiry(at + 50);
  t.ok(first.start());
  t.ok(second.start());
  t.ok(third.timer.start());
  await third.expired;
  // Both had passed when the first fired: each was taken out before any callback ran, so both are called.
  t.equal(calls, 2, 'both deadlines that had passed expired, each once');
  t.equal(third.calls(), 1);
});

t.test('the timer left armed after the last request ended re-arms for the next one, which expires at its own deadline', async (t) => {
  const ended = expiry(Date.now() + 100);
  t.ok(ended.timer.start());
  ended.timer.stop();
  // The queue is empty; the timer still waits for the ended request's instant, then for this one's.
  const next = expiry(Date.now() + 300);
  t.ok(next.timer.start());
  const at = await next.expired;
  t.ok(at >= next.timer.deadline, `expired ${at - next.timer.deadline} ms after its deadline, not before`);
  t.equal(ended.calls(), 0, 'the ended request hears nothing');
  t.equal(next.calls(), 1);
});

t.test('the timer left armed with no request in flight does not hold the process open', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const url = new URL('../src/deadline-timer.js', import.meta.url).href;
  const script = `import(${JSON.stringify(url)}).then(({ DeadlineTimer }) => { const a = new DeadlineTimer(Date.now() + 60000, () => process.exit(3)); a.start(); a.stop(); const b = new DeadlineTimer(Date.now() + 90000, () => process.exit(4)); b.start(); b.stop(); })`;
  const started = Date.now();
  const run = spawnSync(process.execPath, ['-e', script], { timeout: 20_000 });
  t.equal(run.status, 0, 'the process exits by itself');
  t.ok(Date.now() - started < 15_000, 'without waiting for the deadline');
});
