import t from 'tap';
import { Backoff } from '../src/backoff.js';

t.test('full jitter grows exponentially up to the cap and resets', async (t) => {
  const top = new Backoff(100, 1_000, () => 0.999999);
  t.same([1, 2, 3, 4, 5, 6].map(() => top.next()), [99, 199, 399, 799, 999, 999]);
  top.reset();
  t.equal(top.next(), 99);
  const bottom = new Backoff(100, 1_000, () => 0);
  t.same([bottom.next(), bottom.next()], [0, 0], 'full jitter can retry at once');
});
