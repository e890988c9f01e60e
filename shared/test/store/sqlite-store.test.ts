import t from 'tap';
import Database from 'better-sqlite3';
import { readdir, rm, writeFile, appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SqliteStore, SQLITE_FILE } from '../../src/store/sqlite-store.js';
import { SQLITE_SCHEMA_VERSION } from '../../src/store/sqlite-schema.js';
import { DEFAULT_USAGE_RETENTION } from '../../src/store/retention.js';
import { hashSecret } from '../../src/store/secrets.js';
import type { UsageRecord } from '../../src/store/types.js';
import { runStoreContract, TestClock } from './contract.js';
import { countRows, dumpTables, peek, tempDir } from './sqlite-harness.js';

await runStoreContract(t, 'SqliteStore', async (clock) => {
  const dir = await tempDir();
  const store = await SqliteStore.open(dir, { pruneIntervalMs: 0, clock });
  return {
    store,
    dumpRaw: async () => dumpTables(dir),
    prune: async () => void (await store.pruneUsage()),
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

const HOUR = 3_600_000;
const usage = (id: string, atMs: number, over: Partial<UsageRecord> = {}): UsageRecord => ({
  id, at: new Date(atMs).toISOString(), tenantId: 'ten_a', keyId: 'key_1', deploymentId: 'dep_1', connectorId: 'con_1',
  protocol: 'openai.chat', stream: false, status: 200, inputTokens: 3, outputTokens: 4, ttftMs: null, durationMs: 10, ...over,
});
/** Collects what the store logs. */
const memoryLog = () => {
  const lines: { msg: string; obj: Record<string, unknown> }[] = [];
  const push = (obj: Record<string, unknown>, msg: string) => void lines.push({ obj, msg });
  return { lines, log: { info: push, warn: push } as never };
};

t.test('SqliteStore: one WAL database file, mode 0600, schema version recorded', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = await SqliteStore.open(dir, { pruneIntervalMs: 0 });
  await store.createTenant({ name: 'A' });
  t.equal(store.describe(), `SQLite ${join(dir, SQLITE_FILE)}`);
  t.equal(store.kind, 'sqlite');
  const { mode } = await import('node:fs/promises').then((fs) => fs.stat(join(dir, SQLITE_FILE)));
  t.equal(mode & 0o777, 0o600, 'only the owner can read it');
  t.same((await readdir(dir)).sort(), [SQLITE_FILE, `${SQLITE_FILE}-shm`, `${SQLITE_FILE}-wal`]);
  peek(dir, (db) => {
    t.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    t.equal(db.pragma('user_version', { simple: true }), SQLITE_SCHEMA_VERSION);
  });
  await store.close();
  const again = await SqliteStore.open(dir, { pruneIntervalMs: 0 });
  t.equal((await again.listTenants()).length, 1, 'reopened: same data, no migration rerun');
  await again.close();
});

t.test('SqliteStore: two instances on one directory see each other’s writes at once', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const one = await SqliteStore.open(dir, { pruneIntervalMs: 0 });
  const two = await SqliteStore.open(dir, { pruneIntervalMs: 0 });
  t.teardown(() => Promise.all([one.close(), two.close()]));
  const tenant = await one.createTenant({ name: 'A' });
  const key = await one.createApiKey({ tenantId: tenant.id, name: 'k' });
  t.equal((await two.findApiKeyBySecret(key.secret))?.id, key.record.id, 'no polling: the next read sees the commit');
  await two.revokeApiKey(key.record.id);
  t.ok((await one.findApiKeyBySecret(key.secret))?.revokedAt, 'and the other way round');
  const created = await Promise.all(
    Array.from({ length: 30 }, (_, i) => (i % 2 ? one : two).createApiKey({ tenantId: tenant.id, name: `k${i}` })),
  );
  for (const s of [one, two]) {
    t.equal((await s.listApiKeys(tenant.id)).length, 31);
    for (const k of created) t.equal((await s.findApiKeyBySecret(k.secret))?.id, k.record.id);
  }
  await two.createDeployment({ tenantId: tenant.id, name: 'd0' });
  await t.rejects(one.createDeployment({ tenantId: tenant.id, name: 'd0' }), { name: 'StoreConflictError' });
});

t.test('SqliteStore: a write waits for another process’s lock without blocking the event loop', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = await SqliteStore.open(dir, { pruneIntervalMs: 0 });
  t.teardown(() => store.close());
  const tenant = await store.createTenant({ name: 'A' });
  // A real holder: another connection with an open write transaction (as a stuck process would have).
  const holder = new Database(join(dir, SQLITE_FILE));
  t.teardown(() => holder.close());
  holder.exec('BEGIN IMMEDIATE');
  let settled = false;
  const write = store.createApiKey({ tenantId: tenant.id, name: 'waits' }).finally(() => (settled = true));
  let ticks = 0;
  for (let i = 0; i < 5; i++) {
    await sleep(20);
    ticks++;
  }
  t.equal(ticks, 5, 'timers kept running');
  t.equal(settled, false, 'the write is still waiting for the lock');
  t.equal((await store.getTenant(tenant.id))?.id, tenant.id, 'reads are not blocked by the writer');
  holder.exec('ROLLBACK');
  const key = await write;
  t.equal((await store.findApiKeyBySecret(key.secret))?.id, key.record.id, 'written once the lock was free');

  const impatient = await SqliteStore.open(dir, { pruneIntervalMs: 0, lockWaitMs: 150 });
  t.teardown(() => impatient.close());
  holder.exec('BEGIN IMMEDIATE');
  await t.rejects(impatient.createTenant({ name: 'B' }), { name: 'StoreUnavailableError', message: /tokios\.db is locked by another process \(waited 150 ms\)/ });
  holder.exec('ROLLBACK');
  t.equal((await impatient.listTenants()).length, 1, 'the refused write left nothing');
});

t.test('SqliteStore: prune deletes raw records past the raw retention, rollups past theirs', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const clock = new TestClock();
  const store = await SqliteStore.open(dir, { pruneIntervalMs: 0, clock: clock.now, retention: { rawMs: 2 * HOUR, rollupMs: 24 * HOUR } });
  t.teardown(() => store.close());
  const base = clock.ms;
  const old = Array.from({ length: 12_000 }, (_, i) => usage(`old_${i}`, base - 3 * HOUR, { keyId: `key_${i % 3}` }));
  await store.recordUsage(old.slice(0, 6_000));
  await store.recordUsage(old.slice(6_000));
  await store.recordUsage([usage('new_1', base)]);
  t.equal(countRows(dir, 'usage_records'), 12_001);
  t.equal(countRows(dir, 'usage_hourly'), 4, 'one rollup per hour and key');
  t.same(await store.pruneUsage(), { records: 12_000, rollups: 0 }, 'deleted in chunks, all of them');
  t.equal(countRows(dir, 'usage_records'), 1);
  const q = { tenantId: 'ten_a', from: new Date(base - 3 * HOUR).toISOString(), to: new Date(base + HOUR).toISOString(), bucketMs: HOUR };
  t.equal((await store.queryUsage(q)).totals.requests, 12_001, 'the rollups still count them');
  await store.recordUsage([usage('old_1', base - 3 * HOUR)]);
  t.equal((await store.queryUsage(q)).totals.requests, 12_002, 'a record re-sent after its raw copy is gone counts again (documented)');
  clock.advance(24 * HOUR);
  await store.recordUsage([usage('new_2', clock.ms)]);
  t.same(await store.pruneUsage(), { records: 2, rollups: 4 });
  t.equal(countRows(dir, 'usage_hourly'), 1, 'only the rollup of the recent hour is left');
});

t.test('SqliteStore: records go in several to a statement; a chunk with a record seen before, or one twice, stores each new one once', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const clock = new TestClock();
  const store = await SqliteStore.open(dir, { pruneIntervalMs: 0, clock: clock.now });
  t.teardown(() => store.close());
  const seen = Array.from({ length: 25 }, (_, i) => usage(`seen_${i}`, clock.ms, { inputTokens: 1 }));
  const fresh = Array.from({ length: 18 }, (_, i) => usage(`new_${i}`, clock.ms, { inputTokens: 100 }));
  await store.recordUsage(seen);
  // Re-sent records at a chunk's start, middle and end, and a new record twice in one chunk.
  await store.recordUsage([seen[7]!, ...fresh.slice(0, 9), fresh[9]!, fresh[9]!, ...fresh.slice(10, 17), seen[24]!, seen[3]!, fresh[17]!, seen[0]!]);
  await store.recordUsage(seen.slice(0, 10));
  t.equal(countRows(dir, 'usage_records'), 43, 'every record stored once');
  const q = { tenantId: 'ten_a', from: new Date(clock.ms - HOUR).toISOString(), to: new Date(clock.ms + HOUR).toISOString(), bucketMs: HOUR };
  t.match((await store.queryUsage(q)).totals, { requests: 43, inputTokens: 25 + 18 * 100 }, 'and counted once');
});

t.test('SqliteStore: revoked sessions are pruned once their cookie has expired', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const clock = new TestClock();
  const store = await SqliteStore.open(dir, { pruneIntervalMs: 0, clock: clock.now });
  t.teardown(() => store.close());
  await store.revokeSession({ sessionId: 'ses_0000000000000001', tenantId: 'ten_a', expiresAt: clock.iso(HOUR) });
  await store.revokeSession({ sessionId: 'ses_0000000000000002', tenantId: 'ten_a', expiresAt: clock.iso(3 * HOUR) });
  t.equal(countRows(dir, 'revoked_sessions'), 2);
  clock.advance(2 * HOUR);
  await store.revokeSession({ sessionId: 'ses_0000000000000003', tenantId: 'ten_a', expiresAt: clock.iso(HOUR) });
  t.equal(countRows(dir, 'revoked_sessions'), 2, 'the expired entry went with the next revocation');
  t.equal(await store.isSessionRevoked('ses_0000000000000002'), true, 'the live one stays');
});

t.test('SqliteStore: refuses a database from a newer build, and a missing one when told not to create', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await t.rejects(SqliteStore.open(join(dir, 'nope'), { create: false }), { name: 'NoStoreError', message: `no Tokios store in ${join(dir, 'nope')}` });
  await t.rejects(SqliteStore.open(dir, { create: false }), { name: 'NoStoreError' }, 'an empty directory has no store either');
  t.same(await readdir(dir), [], 'nothing was created');
  await (await SqliteStore.open(dir, { pruneIntervalMs: 0 })).close();
  const existing = await SqliteStore.open(dir, { create: false, pruneIntervalMs: 0 });
  await existing.close();
  const db = new Database(join(dir, SQLITE_FILE));
  db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
  db.close();
  await t.rejects(SqliteStore.open(dir), { name: 'StoreUnavailableError', message: /newer than this build understands/ });
});

// ---- the JSON store that came before ----

const secret = 'sk-tokios-' + 'a'.repeat(40);
const v1 = {
  version: 1,
  tenants: [{ id: 'ten_0000000000000001', name: 'Old', createdAt: '2026-01-01T00:00:00.000Z' }],
  apiKeys: [{
    id: 'key_0000000000000001', tenantId: 'ten_0000000000000001', name: 'k', prefix: secret.slice(0, 14),
    hash: hashSecret(secret), createdAt: '2026-01-01T00:00:00.000Z', revokedAt: null,
  }],
  deployments: [{ id: 'dep_0000000000000001', tenantId: 'ten_0000000000000001', name: 'm', createdAt: '2026-01-01T00:00:00.000Z' }],
  tunnelTokens: [],
};

t.test('import: a version 1 store.json is imported once, logged, and renamed', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'store.json'), JSON.stringify(v1));
  await writeFile(join(dir, 'store.lock'), '');
  const { lines, log } = memoryLog();
  const store = await SqliteStore.open(dir, { pruneIntervalMs: 0, log, create: false });
  t.teardown(() => store.close());
  t.same(await store.getTenant('ten_0000000000000001'), { ...v1.tenants[0], console: null });
  t.same(await store.findApiKeyBySecret(secret), { ...v1.apiKeys[0], limits: null });
  t.same((await store.listDeployments('ten_0000000000000001')).map((d) => d.name), ['m']);
  t.match(lines, [
    { msg: 'old JSON store imported into SQLite', obj: { tenants: 1, api_keys: 1, deployments: 1, tunnel_tokens: 0 } },
    { msg: 'old store file imported and renamed', obj: { renamed: join(dir, 'store.json.imported') } },
  ]);
  t.same((await readdir(dir)).filter((f) => !f.startsWith(SQLITE_FILE)).sort(), ['store.json.imported'], 'renamed; the old lock file is gone');
  await store.close();
  const again = await SqliteStore.open(dir, { pruneIntervalMs: 0 });
  t.equal((await again.listTenants()).length, 1, 'not imported twice');
  await again.close();
});

t.test('import: store.json version 2 and usage.jsonl (torn lines, repeats) import exactly; a crash leftover is only renamed', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const owner = 'ten_0000000000000001';
  const guest = 'ten_0000000000000002';
  const v2 = {
    version: 2,
    tenants: [
      { id: owner, name: 'Owner', createdAt: '2026-01-01T00:00:00.000Z', console: { prefix: 'tc-tokios-abcd', hash: hashSecret('tc'), createdAt: '2026-01-02T00:00:00.000Z' } },
      { id: guest, name: 'Guest', createdAt: '2026-01-01T00:00:00.000Z', console: null },
    ],
    apiKeys: [{ ...v1.apiKeys[0], limits: { requestsPerMinute: 5 } }],
    deployments: v1.deployments,
    tunnelTokens: [{ id: 'tok_1', tenantId: owner, deploymentId: 'dep_0000000000000001', prefix: 'tt-tokios-abcd', hash: hashSecret('tt'), createdAt: '2026-01-01T00:00:00.000Z', revokedAt: null }],
    invites: [{ id: 'inv_1', deploymentId: 'dep_0000000000000001', tenantId: owner, prefix: 'ti-tokios-abcd', hash: hashSecret('ti'), createdAt: '2026-01-01T00:00:00.000Z', expiresAt: '2027-01-01T00:00:00.000Z', maxUses: 3, uses: 1, revokedAt: null }],
    shares: [{ id: 'shr_1', deploymentId: 'dep_0000000000000001', ownerTenantId: owner, tenantId: guest, inviteId: 'inv_1', createdAt: '2026-01-03T00:00:00.000Z' }],
  };
  await writeFile(join(dir, 'store.json'), JSON.stringify(v2));
  const clock = new TestClock();
  const at = clock.ms - 5 * HOUR;
  const lines = Array.from({ length: 12_345 }, (_, i) => JSON.stringify(usage(`req_${i}`, at + i, { tenantId: owner, status: i % 100 === 0 ? 500 : 200 })));
  await writeFile(join(dir, 'usage.jsonl'), lines.join('\n') + '\n' + lines.slice(0, 10).join('\n') + '\n{"id":"req_torn","at":"2026-0\n{"id":"bad"}\n' + lines[5] + '\n');
  const { lines: logged, log } = memoryLog();
  const store = await SqliteStore.open(dir, { pruneIntervalMs: 0, clock: clock.now, log });
  t.teardown(() => store.close());
  t.same(await store.findTenantBySecret('tc'), v2.tenants[0]);
  t.same((await store.getApiKey('key_0000000000000001'))?.limits, { requestsPerMinute: 5 });
  t.same(await store.listInvites('dep_0000000000000001'), v2.invites);
  t.same(await store.listSharedWithTenant(guest), [{ share: v2.shares[0], deployment: v2.deployments[0] }]);
  t.equal((await store.findTunnelTokenBySecret('tt'))?.id, 'tok_1');
  const report = await store.queryUsage({ tenantId: owner, from: new Date(at).toISOString(), to: clock.iso(), bucketMs: HOUR });
  t.match(report.totals, { requests: 12_345, inputTokens: 3 * 12_345, outputTokens: 4 * 12_345, errors: 124, serverErrors: 124 }, 'every record once; torn and invalid lines skipped');
  t.match(logged.find((l) => l.msg === 'usage records of the old store imported')?.obj, { lines: 12_358, added: 12_345, skipped: 2 });
  t.same((await readdir(dir)).filter((f) => !f.startsWith(SQLITE_FILE)).sort(), ['store.json.imported', 'usage.jsonl.imported']);
  await store.close();

  // A crash after the import committed but before the rename: the next open only renames the file.
  await writeFile(join(dir, 'usage.jsonl'), lines.slice(0, 3).join('\n'));
  await appendFile(join(dir, 'usage.jsonl'), '\n');
  const again = await SqliteStore.open(dir, { pruneIntervalMs: 0, clock: clock.now });
  t.equal((await again.queryUsage({ tenantId: owner, from: new Date(at).toISOString(), to: clock.iso(), bucketMs: HOUR })).totals.requests, 12_345, 'not counted again');
  t.match(await readFile(join(dir, 'usage.jsonl.imported'), 'utf8'), /req_0/);
  await again.close();
});

t.test('import: a store.json that cannot be read stops the open with a clear message and changes nothing', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'store.json'), JSON.stringify({ version: 3 }));
  await t.rejects(SqliteStore.open(dir), { name: 'StoreUnavailableError', message: /cannot import .*store\.json: store format version 3 is newer/ });
  await writeFile(join(dir, 'store.json'), JSON.stringify({ version: 2, tenants: 'nope' }));
  await t.rejects(SqliteStore.open(dir), { name: 'StoreUnavailableError', message: /cannot import .*store\.json: tenants: .*move it away/ });
  await writeFile(join(dir, 'store.json'), '{');
  await t.rejects(SqliteStore.open(dir), { name: 'StoreUnavailableError', message: /not valid JSON/ });
  t.same(await readdir(dir), ['store.json'], 'no database was made');
});

t.test('defaults: 30 days of raw records, 400 days of rollups', async (t) => {
  t.same(DEFAULT_USAGE_RETENTION, { rawMs: 30 * 24 * HOUR, rollupMs: 400 * 24 * HOUR });
});
