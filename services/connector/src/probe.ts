import type { Logger } from '@tokios/shared/log';
import type { UpstreamKind } from '@tokios/shared/protocol';
import { upstreamGet } from './upstream-http.js';

const PROBE_TIMEOUT_MS = 3_000;

export interface ProbeResult {
  kind: UpstreamKind;
  /** true when the kind came from probing, false when configured (or guessed). */
  detected: boolean;
  reachable: boolean;
  models: string[];
}

function modelsFrom(text: string, kind: UpstreamKind): string[] {
  try {
    const j = JSON.parse(text) as { data?: { id?: unknown }[]; models?: { name?: unknown }[] };
    const list = kind === 'ollama' ? (j.models ?? []).map((m) => m.name) : (j.data ?? []).map((m) => m.id);
    return list.filter((x): x is string => typeof x === 'string').slice(0, 256);
  } catch {
    return [];
  }
}

/** Finds out what the model server speaks (unless configured) and which models it serves. */
export async function probeUpstream(base: string, configured: UpstreamKind | 'auto', log: Logger): Promise<ProbeResult> {
  const tryGet = async (path: string) => {
    try {
      return await upstreamGet(base, path, PROBE_TIMEOUT_MS);
    } catch (err) {
      log.debug({ path, err: (err as Error).message }, 'probe failed');
      return undefined;
    }
  };
  if (configured !== 'auto') {
    const r = await tryGet(configured === 'ollama' ? '/api/tags' : '/v1/models');
    return { kind: configured, detected: false, reachable: r !== undefined, models: r && r.status < 300 ? modelsFrom(r.text, configured) : [] };
  }
  const version = await tryGet('/api/version');
  if (version && version.status === 200 && /"version"/.test(version.text)) {
    const tags = await tryGet('/api/tags');
    return { kind: 'ollama', detected: true, reachable: true, models: tags ? modelsFrom(tags.text, 'ollama') : [] };
  }
  const models = await tryGet('/v1/models');
  return {
    kind: 'openai',
    detected: models !== undefined && models.status < 300,
    reachable: models !== undefined || version !== undefined,
    models: models && models.status < 300 ? modelsFrom(models.text, 'openai') : [],
  };
}

/** Healthy = the model server answers HTTP at all (a 4xx/5xx on a listing still means it is up). */
export async function checkHealth(base: string, kind: UpstreamKind): Promise<boolean> {
  try {
    await upstreamGet(base, kind === 'ollama' ? '/api/tags' : '/v1/models', PROBE_TIMEOUT_MS, 4096);
    return true;
  } catch {
    return false;
  }
}
