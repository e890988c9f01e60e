import { createInterface } from 'node:readline';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { stressRecord, type StressPlan, type StressResult } from './stress-plan.js';

/**
 * One process of the multi-process stress test (sqlite-multiprocess.test.ts). It opens the shared data dir,
 * says `ready`, waits for `go` on stdin (so every process starts at once), then runs its operations in
 * random order on several concurrent loops, and prints one JSON line with what it did.
 */

const plan = JSON.parse(process.argv[2]!) as StressPlan;
const store = await SqliteStore.open(plan.dir, { pruneIntervalMs: 0, lockWaitMs: 60_000 });
const out: StressResult = {
  worker: plan.worker, keys: [], deploymentsWon: [], deploymentConflicts: 0, redeemed: 0, rejected: {}, usageSent: 0,
  ownReadMisses: 0, keyCountWentDown: 0, reads: 0, lockErrors: 0,
};

let lastKeyCount = 0;
const ops: (() => Promise<void>)[] = [];
for (let i = 0; i < plan.keys; i++) {
  ops.push(async () => {
    const k = await store.createApiKey({ tenantId: plan.tenantId, name: `w${plan.worker}-${i}` });
    out.keys.push({ id: k.record.id, secret: k.secret });
    if ((await store.findApiKeyBySecret(k.secret))?.id !== k.record.id) out.ownReadMisses++;
    const n = (await store.listApiKeys(plan.tenantId)).length;
    out.reads += 2;
    if (n < lastKeyCount) out.keyCountWentDown++;
    lastKeyCount = Math.max(lastKeyCount, n);
  });
}
for (const name of plan.racingDeployments) {
  ops.push(async () => {
    try {
      await store.createDeployment({ tenantId: plan.tenantId, name });
      out.deploymentsWon.push(name);
    } catch (err) {
      if ((err as Error).name !== 'StoreConflictError') throw err;
      out.deploymentConflicts++;
    }
  });
}
for (const tenantId of plan.redeemers) {
  ops.push(async () => {
    try {
      await store.redeemInvite({ code: plan.inviteCode, tenantId });
      out.redeemed++;
    } catch (err) {
      const reason = (err as { reason?: string }).reason ?? (err as Error).name;
      out.rejected[reason] = (out.rejected[reason] ?? 0) + 1;
    }
  });
}
for (let b = 0; b < plan.usageBatches; b++) {
  ops.push(async () => {
    const own = Array.from({ length: plan.usagePerBatch }, (_, j) => stressRecord(plan, `w${plan.worker}_b${b}_${j}`, b * plan.usagePerBatch + j));
    const shared = plan.sharedIds.map((id, j) => stressRecord(plan, id, j));
    await store.recordUsage([...own, ...shared]);
    out.usageSent += own.length + shared.length;
  });
}
// Fisher–Yates, so every worker interleaves kinds of work differently.
for (let i = ops.length - 1; i > 0; i--) {
  const j = Math.floor(Math.random() * (i + 1));
  [ops[i], ops[j]] = [ops[j]!, ops[i]!];
}

process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line.trim() === 'go') break;

let next = 0;
await Promise.all(
  Array.from({ length: plan.concurrency }, async () => {
    while (next < ops.length) {
      const op = ops[next++]!;
      try {
        await op();
      } catch (err) {
        if ((err as Error).name === 'StoreUnavailableError') out.lockErrors++;
        else throw err;
      }
    }
  }),
);
await store.close();
process.stdout.write(JSON.stringify(out) + '\n');
lines.close();
