import t from 'tap';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { emptyTotals, recordTotals, addTotals } from '../../src/store/usage.js';
import { stressRecord, type StressPlan, type StressResult } from './stress-plan.js';
import { tempDir } from './sqlite-harness.js';

/**
 * Several processes on one data dir at once, as `tokios dev`, `tokios admin` and services sharing it would be:
 * each creates keys (and reads them back), races the others for the same deployment names, redeems one shared
 * invite for its own tenants, and records usage batches that overlap the others' (the same ids in every
 * batch of every process). Then exact invariants: nothing lost, nothing counted twice, maxUses held.
 */

const WORKERS = 4;
const KEYS = 40;
const RACING = Array.from({ length: 10 }, (_, i) => `race-${i}`);
const REDEEMERS_PER_WORKER = 10;
const MAX_USES = 25;
const BATCHES = 30;
const PER_BATCH = 40;
const SHARED_IDS = Array.from({ length: 10 }, (_, i) => `shared_${i}`);

const workerScript = fileURLToPath(new URL('./stress-worker.js', import.meta.url));

function startWorker(plan: StressPlan): { proc: ChildProcessWithoutNullStreams; ready: Promise<void>; result: Promise<StressResult> } {
  const proc = spawn(process.execPath, [workerScript, JSON.stringify(plan)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: proc.stdout });
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const result = new Promise<StressResult>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line === 'ready') onReady();
      else if (line.startsWith('{')) resolve(JSON.parse(line) as StressResult);
    });
    proc.once('exit', (code) => reject(new Error(`worker ${plan.worker} exited ${code}: ${stderr}`)));
  });
  return { proc, ready: Promise.race([ready, result.then(() => undefined)]), result };
}

t.test(`${WORKERS} processes writing and reading one SQLite store at once lose nothing and count exactly`, async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = await SqliteStore.open(dir, { pruneIntervalMs: 0 });
  t.teardown(() => store.close());
  const tenant = await store.createTenant({ name: 'stress' });
  const owner = await store.createTenant({ name: 'owner' });
  const dep = await store.createDeployment({ tenantId: owner.id, name: 'shared' });
  const invite = await store.createInvite({ deploymentId: dep.id, expiresAt: new Date(Date.now() + 3_600_000).toISOString(), maxUses: MAX_USES });
  const usageAt = new Date().toISOString();
  const plans: StressPlan[] = [];
  for (let w = 0; w < WORKERS; w++) {
    const redeemers = [];
    for (let i = 0; i < REDEEMERS_PER_WORKER; i++) redeemers.push((await store.createTenant({ name: `r${w}-${i}` })).id);
    plans.push({
      dir, worker: w, tenantId: tenant.id, keys: KEYS, racingDeployments: RACING, inviteCode: invite.secret, redeemers,
      usageBatches: BATCHES, usagePerBatch: PER_BATCH, sharedIds: SHARED_IDS, usageAt, concurrency: 4,
    });
  }

  const workers = plans.map(startWorker);
  t.teardown(() => workers.forEach((w) => w.proc.exitCode === null && w.proc.kill()));
  await Promise.all(workers.map((w) => w.ready));
  const started = Date.now();
  for (const w of workers) w.proc.stdin.write('go\n');
  const results = await Promise.all(workers.map((w) => w.result));
  const ms = Date.now() - started;
  const ops = plans[0]!.keys + RACING.length + REDEEMERS_PER_WORKER + BATCHES;
  t.comment(`${WORKERS} processes × ${ops} operations (${KEYS} key creates with 2 reads each, ${RACING.length} racing deployment creates, ${REDEEMERS_PER_WORKER} redemptions, ${BATCHES} usage batches of ${PER_BATCH + SHARED_IDS.length} records), 4 loops per process: ${ms} ms`);

  t.same(results.map((r) => r.lockErrors), Array(WORKERS).fill(0), 'no operation gave up waiting for the lock');
  t.same(results.map((r) => r.ownReadMisses), Array(WORKERS).fill(0), 'each process reads its own writes at once');
  t.same(results.map((r) => r.keyCountWentDown), Array(WORKERS).fill(0), 'no process ever saw the key count go down');

  const keys = results.flatMap((r) => r.keys);
  t.equal(keys.length, WORKERS * KEYS);
  t.equal((await store.listApiKeys(tenant.id)).length, WORKERS * KEYS, 'no lost key');
  const mismatched = [];
  for (const k of keys) if ((await store.findApiKeyBySecret(k.secret))?.id !== k.id) mismatched.push(k.id);
  t.same(mismatched, [], 'every key created by any process is found by its secret');

  const won = results.flatMap((r) => r.deploymentsWon).sort();
  t.same(won, [...RACING].sort(), 'each racing deployment name was won by exactly one process');
  t.equal(results.reduce((n, r) => n + r.deploymentConflicts, 0), WORKERS * RACING.length - RACING.length, 'the others got a conflict');
  t.equal((await store.listDeployments(tenant.id)).length, RACING.length);

  const redeemed = results.reduce((n, r) => n + r.redeemed, 0);
  t.equal(redeemed, MAX_USES, `${WORKERS * REDEEMERS_PER_WORKER} racing redemptions: exactly maxUses succeeded`);
  t.same(
    results.reduce<Record<string, number>>((acc, r) => {
      for (const [k, v] of Object.entries(r.rejected)) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {}),
    { exhausted: WORKERS * REDEEMERS_PER_WORKER - MAX_USES },
    'every other one was refused as exhausted',
  );
  t.equal((await store.listInvites(dep.id))[0]?.uses, MAX_USES, 'uses never exceed maxUses');
  t.equal((await store.listShares(dep.id)).length, MAX_USES, 'one share per counted use');

  const expected = emptyTotals();
  for (const p of plans) {
    for (let b = 0; b < BATCHES; b++) {
      for (let j = 0; j < PER_BATCH; j++) addTotals(expected, recordTotals(stressRecord(p, '', b * PER_BATCH + j)));
    }
  }
  SHARED_IDS.forEach((id, j) => addTotals(expected, recordTotals(stressRecord(plans[0]!, id, j))));
  const hour = 3_600_000;
  const from = new Date(Math.floor(Date.parse(usageAt) / hour) * hour).toISOString();
  const report = await store.queryUsage({ tenantId: tenant.id, from, to: new Date(Date.parse(from) + hour).toISOString(), bucketMs: hour });
  t.equal(results.reduce((n, r) => n + r.usageSent, 0), WORKERS * BATCHES * (PER_BATCH + SHARED_IDS.length), 'records sent');
  t.same(report.totals, expected, `usage totals exact: ${expected.requests} distinct records, the shared ids counted once`);
});
