// `npm run chaos`: the chaos topology of test/support/chaos.ts, every fault in turn for CHAOS_ROUNDS rounds (default
// 3), printing one line per fault as it goes, then per fault a table of the rounds with min / median / max and each
// target of issue 10 (test/support/chaos-report.ts) met or missed in every round. Exit code 1 when a target is missed.
import { Chaos, FAULTS, type FaultResult } from '../support/chaos.js';
import { runReport } from '../support/chaos-report.js';

const rounds = Number(process.env.CHAOS_ROUNDS ?? 3);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 100) {
  process.stderr.write(`CHAOS_ROUNDS must be a whole number from 1 to 100 (got "${process.env.CHAOS_ROUNDS}")\n`);
  process.exit(2);
}
const teardowns: (() => unknown)[] = [];
const log = (line: string): void => void process.stdout.write(`${line}\n`);
const results: FaultResult[] = [];
const started = Date.now();
try {
  log(`chaos: ${rounds} round(s) of ${FAULTS.length} faults; starting the topology`);
  const chaos = await Chaos.start({ teardown: (fn) => teardowns.push(fn) }, log);
  for (let round = 1; round <= rounds; round++) {
    for (const fault of FAULTS) {
      const r = await chaos.run(fault);
      results.push(r);
      log(`round ${round} ${fault}: ${r.requests} requests, ${r.failed} failed (max ${r.maxFailMs ?? '-'} ms), off target ${r.failedOffTarget.length}, recovery ${r.recoveryMs ?? '-'} ms, orphans ${r.orphans}, corrupted ${r.corrupted.length}, hung ${r.hung}${r.note ? `; ${r.note}` : ''}`);
      for (const line of [...r.failedOffTarget, ...r.corrupted]) log(`  ${line}`);
    }
  }
  await chaos.idle();
} finally {
  for (const fn of teardowns.reverse()) await fn();
}
const { text, missed } = runReport(FAULTS, results);
log(`\n${text}\n\n${rounds} round(s) in ${Math.round((Date.now() - started) / 1000)} s; ${missed.length ? `${missed.length} target(s) missed` : 'every target met in every round'}`);
process.exit(missed.length ? 1 : 0);
