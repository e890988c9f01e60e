import t from 'tap';
import { IsoClock } from '../src/usage/iso-clock.js';

t.test('the usage clock writes what toISOString writes, across second, minute, day and year edges', async (t) => {
  const clock = new IsoClock();
  const edges = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, Date.UTC(2026, 11, 31, 23, 59, 59, 999), Date.UTC(2027, 0, 1), Date.now()];
  const samples = edges.flatMap((e) => [e, e + 1, e + 7, e + 59, e + 999, e + 1000]);
  // Out of order too: a record's time may come from a call that started before the last one seen.
  for (const ms of [...samples, ...samples.reverse()]) t.equal(clock.at(ms), new Date(ms).toISOString(), String(ms));
  let mismatches = 0;
  for (let ms = Date.UTC(2026, 5, 30, 23, 59, 58); ms < Date.UTC(2026, 5, 30, 23, 59, 58) + 3_000; ms++) if (clock.at(ms) !== new Date(ms).toISOString()) mismatches++;
  t.equal(mismatches, 0, 'every millisecond of three seconds');
});
