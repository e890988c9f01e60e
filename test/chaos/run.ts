// `npm run chaos`: the chaos topology of test/support/chaos.ts, every fault in turn for CHAOS_ROUNDS rounds (default
// 3), printing one line per fault and the per-fault table at the end. Exit code 1 when a target is missed.
import { Chaos, FAULTS, table, type FaultResult } from '../support/chaos.js';

const rounds = Number(process.env.CHAOS_ROUNDS ?? 3);
const teardowns: (() => unknown)[] = [];
const log = (line: string): void => void process.stdout.write(`${line}\n`);
const results: FaultResult[] = [];
try {
  log(`chaos: ${rounds} round(s) of ${FAULTS.length} faults; starting the topology`);
  const chaos = await Chaos.start({ teardown: (fn) => teardowns.push(fn) }, log);
  for (let round = 1; round <= rounds; round++) {
    for (const fault of FAULTS) {
      const r = await chaos.run(fault);
      results.push(r);
      log(`round ${round} ${fault}: ${r.requests} requests, ${r.failed} failed, off target ${r.failedOffTarget.length}, recovery ${r.recoveryMs ?? '-'} ms, orphans ${r.orphans}, corrupted ${r.corrupted.length}, hung ${r.hung}${r.note ? `; ${r.note}` : ''}`);
      for (const line of [...r.failedOffTarget, ...r.corrupted]) log(`  ${line}`);
    }
  }
} finally {
  for (const fn of teardowns.reverse()) await fn();
}
log(`\n${table(results)}`);
const missed = results.filter((r) => r.hung || r.orphans || r.corrupted.length || r.failedOffTarget.length);
process.exit(missed.length ? 1 : 0);
