import type { Logger } from '@tokios/shared/log';
import type { UpstreamKind } from '@tokios/shared/protocol';
import { detectUpstreamKind, isLlamaCppProps, listOllamaModels, listOpenAIModels, type ProbeResult as HttpProbe } from '@tokios/shared/translate';
import { upstreamGet } from './upstream-http.js';

const PROBE_TIMEOUT_MS = 3_000;

export interface ProbeResult {
  kind: UpstreamKind;
  /** true when the kind came from probing, false when configured (or assumed). */
  detected: boolean;
  reachable: boolean;
  models: string[];
  /** An OpenAI-compatible llama.cpp server (GET /props): fill-in-the-middle completions go to its /infill. */
  infill: boolean;
  /** Why detection failed, when it did. */
  reason?: string;
}

async function get(base: string, path: string, log: Logger): Promise<HttpProbe> {
  try {
    const r = await upstreamGet(base, path, PROBE_TIMEOUT_MS);
    return { status: r.status, body: r.text };
  } catch (err) {
    log.debug({ path, err: (err as Error).message }, 'probe got no answer');
    return { status: 0, body: '' };
  }
}

/** Finds out, once at startup, what the model server speaks (unless configured) and which models it serves. */
export async function probeUpstream(base: string, configured: UpstreamKind | 'auto', log: Logger): Promise<ProbeResult> {
  if (configured !== 'auto') {
    const r = await get(base, configured === 'ollama' ? '/api/tags' : '/v1/models', log);
    const models = r.status >= 200 && r.status < 300 ? ((configured === 'ollama' ? listOllamaModels(r.body) : listOpenAIModels(r.body)) ?? []) : [];
    return { kind: configured, detected: false, reachable: r.status !== 0, models, infill: configured === 'openai' && (await hasInfill(base, log)) };
  }
  const [ollamaVersion, ollamaTags, openaiModels] = await Promise.all([
    get(base, '/api/version', log),
    get(base, '/api/tags', log),
    get(base, '/v1/models', log),
  ]);
  const d = detectUpstreamKind({ ollamaVersion, ollamaTags, openaiModels });
  const reachable = [ollamaVersion, ollamaTags, openaiModels].some((p) => p.status !== 0);
  if (d.kind === null) return { kind: 'openai', detected: false, reachable, models: [], infill: false, reason: d.reason };
  return { kind: d.kind, detected: true, reachable, models: d.models, infill: d.kind === 'openai' && (await hasInfill(base, log)) };
}

/** Whether the OpenAI-compatible server is llama.cpp's, with /infill (see isLlamaCppProps). */
async function hasInfill(base: string, log: Logger): Promise<boolean> {
  return isLlamaCppProps(await get(base, '/props', log));
}

/** Healthy = the model server answers HTTP at all (a 4xx/5xx on a listing still means it is up). */
export async function checkHealth(base: string, kind: UpstreamKind): Promise<boolean> {
  const path = kind === 'ollama' ? '/api/tags' : '/v1/models';
  // A failure on a pooled socket may be the server closing it as we reused it: one more try on a new connection
  // before the connector is marked down for a whole interval.
  for (const fresh of [false, true]) {
    try {
      await upstreamGet(base, path, PROBE_TIMEOUT_MS, 4096, fresh);
      return true;
    } catch {
      /* try again on a fresh socket, then give up */
    }
  }
  return false;
}
