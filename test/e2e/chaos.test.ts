// Issue 10: the chaos run in the suite (bounded, loopback): a 3-node NATS cluster, 2 ingress, 2 terminators,
// 2 deployments x 2 connectors, every fault in turn under load (test/support/chaos.ts). Asserted: no caller hangs,
// every completed answer is byte-correct, no failure off the faulted part (and none at all for graceful faults), no
// generation goes on for a caller that failed. The times (failure, recovery, abort) are printed, not asserted: a
// loaded machine varies them; `npm run chaos` runs several rounds and prints the table.
import t from 'tap';
import { Chaos, FAULTS, type FaultResult } from '../support/chaos.js';
import { table, targetsOf } from '../support/chaos-report.js';

t.setTimeout(1_800_000);

t.test('chaos: every fault in turn under load', async (t) => {
  const chaos = await Chaos.start(t, (line) => t.comment(line));
  const results: FaultResult[] = [];
  for (const fault of FAULTS) {
    const r = await chaos.run(fault);
    results.push(r);
    t.comment(`${fault}: ${r.requests} requests, ${r.inFlightAtFault} in flight at the fault, ${r.failed} failed (max ${r.maxFailMs ?? '-'} ms after it), first success after ${r.recoveryMs ?? '-'} ms, model request of a failed caller stopped within ${r.maxAbortMs ?? '-'} ms of a failure${r.note ? `; ${r.note}` : ''}`);
    // The issue's targets for this fault, but times: those vary with the machine's load (`npm run chaos` checks them).
    for (const target of targetsOf(fault).filter((x) => !x.timed)) {
      t.ok(target.met(r), `${fault}: ${target.what}`, { failedOffTarget: r.failedOffTarget, corrupted: r.corrupted, hung: r.hung, orphans: r.orphans });
    }
  }
  await chaos.idle();
  t.comment(`\n${table(results)}`);
});
