import t from 'tap';
import { mkdtemp, readdir, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../src/store/file-store.js';
import { hashSecret } from '../../src/store/secrets.js';
import { runStoreContract, TestClock } from './contract.js';

const tempDir = () => mkdtemp(join(tmpdir(), 'tokios-store-'));

/** Every file the store wrote, concatenated. */
async function dumpDir(dir: string): Promise<string> {
  const names = await readdir(dir);
  const parts = await Promise.all(names.map((n) => readFile(join(dir, n), 'utf8').catch(() => '')));
  return parts.join('\n');
}

await runStoreContract(t, 'FileStore', async (clock) => {
  const dir = await tempDir();
  const store = await FileStore.open(dir, { pollMs: 0, clock });
  return {
    store,
    dumpRaw: () => dumpDir(dir),
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

await t.test('FileStore: two instances on one directory writing in parallel lose nothing', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const one = await FileStore.open(dir, { pollMs: 0 });
  const two = await FileStore.open(dir, { pollMs: 0 });
  t.teardown(() => Promise.all([one.close(), two.close()]));
  const tenant = await one.createTenant({ name: 'A' });
  const created = await Promise.all(
    Array.from({ length: 30 }, (_, i) => (i % 2 ? one : two).createApiKey({ tenantId: tenant.id, name: `k${i}` })),
  );
  const deps = await Promise.all(
    Array.from({ length: 10 }, (_, i) => (i % 2 ? two : one).createDeployment({ tenantId: tenant.id, name: `d${i}` })),
  );
  const usage = Array.from({ length: 40 }, (_, i) => ({
    id: `req_${i}`, at: new Date(Date.UTC(2026, 2, 1, 0, 0, i)).toISOString(), tenantId: tenant.id, keyId: 'k',
    deploymentId: 'd', connectorId: 'c', protocol: 'openai.chat' as const, stream: false, status: 200,
    inputTokens: i, outputTokens: 1, ttftMs: null, durationMs: 1,
  }));
  await Promise.all(usage.map((r, i) => (i % 2 ? one : two).recordUsage([r])));
  for (const s of [one, two]) {
    t.equal((await s.listApiKeys(tenant.id)).length, 30, 'every key is there');
    t.equal((await s.listDeployments(tenant.id)).length, 10, 'every deployment is there');
    for (const k of created) t.equal((await s.findApiKeyBySecret(k.secret))?.id, k.record.id);
    const report = await s.queryUsage({
      tenantId: tenant.id, from: '2026-03-01T00:00:00Z', to: '2026-03-01T00:01:00Z', bucketMs: 60_000,
    });
    t.same(report.totals, { requests: 40, inputTokens: (39 * 40) / 2, outputTokens: 40, errors: 0 });
  }
  t.equal(deps.length, 10);
  await t.rejects(two.createDeployment({ tenantId: tenant.id, name: 'd0' }), { name: 'StoreConflictError' }, 'sees the other’s writes');
});

await t.test('FileStore: a version 1 file is migrated on load and rewritten as version 2', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
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
  await writeFile(join(dir, 'store.json'), JSON.stringify(v1));
  const store = await FileStore.open(dir, { pollMs: 0, clock: new TestClock().now });
  t.teardown(() => store.close());
  t.same(await store.getTenant('ten_0000000000000001'), { ...v1.tenants[0], console: null });
  t.same((await store.findApiKeyBySecret(secret))?.limits, null);
  t.same(await store.listInvites('dep_0000000000000001'), []);
  t.same(await store.listSharedWithTenant('ten_0000000000000001'), []);
  t.equal(JSON.parse(await readFile(join(dir, 'store.json'), 'utf8')).version, 1, 'reading alone does not rewrite');
  await store.setApiKeyLimits('key_0000000000000001', { requestsPerMinute: 5 });
  const after = JSON.parse(await readFile(join(dir, 'store.json'), 'utf8'));
  t.equal(after.version, 2);
  t.same(after.invites, []);
  t.same(after.apiKeys[0].limits, { requestsPerMinute: 5 });
});

await t.test('FileStore: refuses a file from a newer build or in a bad format', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'store.json'), JSON.stringify({ version: 3 }));
  await t.rejects(FileStore.open(dir, { pollMs: 0 }), { name: 'StoreUnavailableError', message: /version 3 is newer/ });
  await writeFile(join(dir, 'store.json'), JSON.stringify({ version: 2, tenants: 'nope' }));
  await t.rejects(FileStore.open(dir, { pollMs: 0 }), { name: 'StoreUnavailableError', message: /does not match/ });
  await writeFile(join(dir, 'store.json'), '{');
  await t.rejects(FileStore.open(dir, { pollMs: 0 }), { name: 'StoreUnavailableError', message: /not valid JSON/ });
});

await t.test('FileStore: usage.jsonl survives a torn line and an empty directory', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = await FileStore.open(dir, { pollMs: 0 });
  t.teardown(() => store.close());
  const q = { tenantId: 'ten_a', from: '2026-03-01T00:00:00Z', to: '2026-03-01T01:00:00Z', bucketMs: 3_600_000 };
  t.same((await store.queryUsage(q)).totals, { requests: 0, inputTokens: 0, outputTokens: 0, errors: 0 }, 'no file yet');
  const r = {
    id: 'req_1', at: '2026-03-01T00:00:01.000Z', tenantId: 'ten_a', keyId: 'k', deploymentId: 'd', connectorId: 'c',
    protocol: 'openai.responses' as const, stream: true, status: 500, inputTokens: 3, outputTokens: 4, ttftMs: 12, durationMs: 30,
  };
  await store.recordUsage([r]);
  await appendFile(join(dir, 'usage.jsonl'), '{"id":"req_2","at":"2026-03-01T00:0');
  await store.recordUsage([{ ...r, id: 'req_3' }]);
  await appendFile(join(dir, 'usage.jsonl'), '{"id":"req_5"}\n');
  await store.recordUsage([{ ...r, id: 'req_4' }]);
  t.same((await store.queryUsage(q)).totals, { requests: 3, inputTokens: 9, outputTokens: 12, errors: 3 }, 'only the torn and the invalid line are skipped');
});
