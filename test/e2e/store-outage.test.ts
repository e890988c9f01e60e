import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileStore } from '@tokios/shared/store';
import { chat, startReplicas, type Replicas } from '../support/index.js';

let r: Replicas;
t.before(async () => {
  // A short TTL so the test outlives it: what follows is served from expired (stale) entries.
  r = await startReplicas(1, { TOKIOS_AUTH_CACHE_TTL_MS: '200', TOKIOS_AUTH_CACHE_NEGATIVE_TTL_MS: '100' });
});
t.teardown(() => r.close());

t.test('the ingress keeps serving known keys from its cache while the store is unreadable', async (t) => {
  const url = r.ingress[0]!.url;
  t.equal((await chat(url, r.stack.seeded.apiKey, {})).status, 200, 'warm: key and deployment cached');

  // A real fault: the store file becomes unreadable (torn write, bad disk…); every read now fails.
  const file = join(r.stack.seeded.dataDir, 'store.json');
  const good = await readFile(file);
  await writeFile(file, '{"version": 2, "tenants": [');
  await new Promise((res) => setTimeout(res, 400)); // cached entries are now past their TTL

  for (let i = 0; i < 5; i++) {
    const res = await chat(url, r.stack.seeded.apiKey, {});
    t.equal(res.status, 200, 'known key still served');
    t.ok(res.ms < 1_000, `in ${res.ms} ms`);
  }
  // (the file store itself still answers for keys it read before the fault; an unknown secret needs the file)
  const unknown = await chat(url, 'sk-tokios-not-a-key-the-ingress-has-seen', {});
  t.equal(unknown.status, 503, 'a key the ingress never saw cannot be checked');
  t.match(unknown.body, { error: { code: 'store_unavailable', type: 'server_error' } });
  t.equal(unknown.headers.get('retry-after'), '1');
  await r.ingress[0]!.proc.waitFor(/lookup failed; serving the cached copy/);

  await writeFile(file, good);
  const store = await FileStore.open(r.stack.seeded.dataDir, { pollMs: 0 });
  const fresh = await store.createApiKey({ tenantId: r.stack.seeded.tenantId, name: 'after-outage' });
  await store.close();
  t.equal((await chat(url, 'sk-tokios-not-a-key-the-ingress-has-seen', {})).status, 401, 'unknown keys are 401 again');
  t.equal((await chat(url, fresh.secret, {})).status, 200, 'a key created after the outage works');
});
