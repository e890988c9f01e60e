import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '@tokios/shared/store';

export interface Seeded {
  dataDir: string;
  tenantId: string;
  apiKey: string;
  keyId: string;
  deployments: Record<string, { id: string; token: string; tokenId: string }>;
}

/** A fresh data dir with one tenant, one API key and the named deployments, each with a tunnel token. */
export async function seed(names: string[] = ['model-a']): Promise<Seeded> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tokios-data-'));
  const store = await SqliteStore.open(dataDir, { pruneIntervalMs: 0 });
  const tenant = await store.createTenant({ name: 'test-tenant' });
  const key = await store.createApiKey({ tenantId: tenant.id, name: 'test' });
  const deployments: Seeded['deployments'] = {};
  for (const name of names) {
    const d = await store.createDeployment({ tenantId: tenant.id, name });
    const t = await store.createTunnelToken({ deploymentId: d.id });
    deployments[name] = { id: d.id, token: t.secret, tokenId: t.record.id };
  }
  await store.close();
  return { dataDir, tenantId: tenant.id, apiKey: key.secret, keyId: key.record.id, deployments };
}
