import t from 'tap';
import { SqliteStore, hashSecret } from '@tokios/shared/store';
import { controlSubject, publishControlEvent } from '@tokios/shared/control';
import { publishSigned } from '@tokios/shared/fabric-auth';
import { chat, startReplicas, testFabricKey, type Replicas } from '../support/index.js';

let r: Replicas;
t.before(async () => {
  r = await startReplicas(2);
});
t.teardown(() => r.close());

const openStore = () => SqliteStore.open(r.stack.seeded.dataDir, { pruneIntervalMs: 0 });

t.test('revoking a key makes every ingress replica reject it within 1 s', async (t) => {
  const store = await openStore();
  const { record, secret } = await store.createApiKey({ tenantId: r.stack.seeded.tenantId, name: 'to-revoke' });
  for (const i of r.ingress) {
    // several calls each: the key is now in every replica's cache (30 s TTL by default)
    for (let n = 0; n < 3; n++) t.equal((await chat(i.url, secret, {})).status, 200, 'works before revocation');
  }
  await store.revokeApiKey(record.id);
  await store.close();
  publishControlEvent(r.nc, testFabricKey(), 'key_revoked', { keyId: record.id, hash: hashSecret(secret) });
  const t0 = Date.now();
  const rejectedAt = await Promise.all(
    r.ingress.map(async (i) => {
      for (;;) {
        const res = await chat(i.url, secret, {});
        if (res.status === 401) {
          t.match(res.body, { error: { code: 'invalid_api_key', message: 'This API key has been revoked.' } });
          return Date.now() - t0;
        }
        if (Date.now() - t0 > 5_000) return Infinity;
        await new Promise((res) => setTimeout(res, 20));
      }
    }),
  );
  for (const ms of rejectedAt) t.ok(ms < 1_000, `a replica rejects the revoked key after ${ms} ms`);
  // the original key is unaffected
  for (const i of r.ingress) t.equal((await chat(i.url, r.stack.seeded.apiKey, {})).status, 200);
});

t.test('key_changed applies new limits on every replica at once', async (t) => {
  const store = await openStore();
  const { record, secret } = await store.createApiKey({ tenantId: r.stack.seeded.tenantId, name: 'limited-later' });
  for (const i of r.ingress) t.equal((await chat(i.url, secret, {})).status, 200);
  await store.setApiKeyLimits(record.id, { requestsPerMinute: 1 });
  await store.close();
  publishControlEvent(r.nc, testFabricKey(), 'key_changed', { keyId: record.id, hash: hashSecret(secret) });
  // The file store's readers poll every 200 ms and the ingress drops the entry again 1 s after the event.
  await new Promise((res) => setTimeout(res, 1_300));
  const statuses: number[] = [];
  for (let n = 0; n < 3; n++) for (const i of r.ingress) statuses.push((await chat(i.url, secret, {})).status);
  t.equal(statuses.filter((s) => s === 200).length, 1, `one request per minute: ${statuses.join(',')}`);
  t.equal(statuses.filter((s) => s === 429).length, 5);
});

t.test('a malformed control event is ignored and the replicas keep serving', async (t) => {
  // signed (from a holder of the fabric secret) but malformed: the schema check is what refuses them
  publishSigned(r.nc, testFabricKey(), controlSubject('key_revoked'), '{"keyId":"x y","hash":"nothex"}');
  publishSigned(r.nc, testFabricKey(), controlSubject('deployment_changed'), 'x'.repeat(10_000));
  for (const i of r.ingress) t.equal((await chat(i.url, r.stack.seeded.apiKey, {})).status, 200);
  await Promise.all(r.ingress.map((i) => i.proc.waitFor(/malformed control event ignored/)));
});
