import t from 'tap';
import type { UsageRecord } from '../../src/store/types.js';
import { USAGE_HOUR_MS, emptyTotals, floorHour, instantMs, rollUp, type Rollup } from '../../src/store/usage.js';

/** What rollUp computed before it compared a record with the one before: a map key per record, a totals object each. */
function slowRollUp(records: readonly UsageRecord[]): Rollup[] {
  const out = new Map<string, Rollup>();
  for (const r of records) {
    const hour = floorHour(instantMs(r.at));
    const id = JSON.stringify([r.tenantId, hour, r.deploymentId, r.keyId]);
    let roll = out.get(id);
    if (!roll) out.set(id, (roll = { tenantId: r.tenantId, hour, deploymentId: r.deploymentId, keyId: r.keyId, totals: emptyTotals() }));
    const x = roll.totals;
    x.requests++;
    x.inputTokens += r.inputTokens;
    x.outputTokens += r.outputTokens;
    x.errors += r.status >= 400 ? 1 : 0;
    x.clientErrors += r.status >= 400 && r.status < 500 ? 1 : 0;
    x.serverErrors += r.status >= 500 ? 1 : 0;
    x.durationMsSum += r.durationMs;
    x.ttftMsSum += r.ttftMs ?? 0;
    x.ttftCount += r.ttftMs === null ? 0 : 1;
  }
  return [...out.values()];
}

t.test('rollUp: the same rollups as a map key per record, whatever the order of keys and hours', async (t) => {
  const base = Date.UTC(2026, 11, 2, 6, 59, 59, 990);
  const tenants = ['ten_a', 'ten_b'];
  const deps = ['dep_1', 'dep_2'];
  const keys = ['key_x', 'key_y', 'key_z'];
  const statuses = [200, 200, 429, 502, 200, 404];
  let seed = 7;
  const next = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  const records: UsageRecord[] = [];
  for (let i = 0; i < 2_000; i++) {
    // Runs of one key (as an ingress's batch mostly is), broken by others, across an hour boundary.
    const run = i % 50 < 40;
    records.push({
      id: `r${i}`, at: new Date(base + i * 7).toISOString(), tenantId: run ? 'ten_a' : tenants[next(2)]!, keyId: run ? 'key_x' : keys[next(3)]!,
      deploymentId: run ? 'dep_1' : deps[next(2)]!, aliasId: null, connectorId: 'c', protocol: 'openai.chat', stream: next(2) === 0,
      status: statuses[next(statuses.length)]!, inputTokens: next(100), outputTokens: next(1000), ttftMs: next(3) === 0 ? null : next(50), durationMs: next(500),
    });
  }
  t.ok(new Set(records.map((r) => floorHour(instantMs(r.at)))).size === 2, 'the records span two hours');
  const fast = rollUp(records);
  t.same(fast, slowRollUp(records));
  t.same(rollUp(records, records.map((r) => floorHour(instantMs(r.at)))), fast, 'given hours: the same');
  t.same(rollUp([]), []);
  // Equal fields, different hours: never merged.
  const twoHours = [records[0]!, { ...records[0]!, id: 'later', at: new Date(base + USAGE_HOUR_MS).toISOString() }];
  t.equal(rollUp(twoHours).length, 2);
});
