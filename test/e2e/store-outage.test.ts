import t from 'tap';
import { SqliteStore } from '@tokios/shared/store';
import { chat, corruptTables, startReplicas, type Replicas } from '../support/index.js';

let r: Replicas;
t.before(async () => {
  // A short TTL so the test outlives it: what follows is served from expired (stale) entries.
  r = await startReplicas(1, { TOKIOS_AUTH_CACHE_TTL_MS: '200', TOKIOS_AUTH_CACHE_NEGATIVE_TTL_MS: '100' });
});
t.teardown(() => r.close());

t.test('the ingress keeps serving known keys from its cache while the store is unreadable', async (t) => {
  const url = r.ingress[0]!.url;
  t.equal((await chat(url, r.stack.seeded.apiKey, {})).status, 200, 'warm: key and deployment cached');

  // A real fault: the pages of the API keys table go bad on disk; every key lookup now fails (SQLITE_CORRUPT).
  const damage = corruptTables(r.stack.seeded.dataDir, ['api_keys']);
  await new Promise((res) => setTimeout(res, 400)); // cached entries are now past their TTL

  for (let i = 0; i < 5; i++) {
    const res = await chat(url, r.stack.seeded.apiKey, {});
    t.equal(res.status, 200, 'known key still served');
    t.ok(res.ms < 1_000, `in ${res.ms} ms`);
  }
  const unknown = await chat(url, 'sk-tokios-not-a-key-the-ingress-has-seen', {});
  t.equal(unknown.status, 503, 'a key the ingress never saw cannot be checked');
  t.match(unknown.body, { error: { code: 'store_unavailable', type: 'server_error' } });
  t.equal(unknown.headers.get('retry-after'), '1');
  await r.ingress[0]!.proc.waitFor(/lookup failed; serving the cached copy/);

  damage.restore();
  const store = await SqliteStore.open(r.stack.seeded.dataDir, { pruneIntervalMs: 0 });
  const fresh = await store.createApiKey({ tenantId: r.stack.seeded.tenantId, name: 'after-outage' });
  await store.close();
  t.equal((await chat(url, 'sk-tokios-not-a-key-the-ingress-has-seen', {})).status, 401, 'unknown keys are 401 again');
  t.equal((await chat(url, fresh.secret, {})).status, 200, 'a key created after the outage works');
});
