import type { UpstreamKind } from '../protocol/meta.js';
import { isRecord, parseJson } from './util.js';

/** What one probe got: `status` 0 means no HTTP answer (refused, timeout). The connector does the HTTP. */
export interface ProbeResult {
  status: number;
  body: string;
}

export interface UpstreamProbes {
  /** GET /api/version (Ollama). */
  ollamaVersion?: ProbeResult;
  /** GET /api/tags (Ollama). */
  ollamaTags?: ProbeResult;
  /** GET /v1/models (OpenAI-compatible; Ollama serves it too). */
  openaiModels?: ProbeResult;
}

export type Detection = { kind: UpstreamKind; models: string[]; version?: string } | { kind: null; reason: string };

/** Same caps as the connector's hello metadata. */
export const MAX_MODELS = 256;
export const MAX_MODEL_NAME = 256;

function ok(p: ProbeResult | undefined): p is ProbeResult {
  return p !== undefined && p.status >= 200 && p.status < 300;
}

function names(list: unknown, field: 'id' | 'name' | 'model'): string[] | undefined {
  if (!Array.isArray(list)) return undefined;
  const out: string[] = [];
  for (const item of list) {
    if (out.length >= MAX_MODELS) break;
    const name = isRecord(item) ? item[field] : undefined;
    if (typeof name === 'string' && name.length > 0 && name.length <= MAX_MODEL_NAME && !out.includes(name)) out.push(name);
  }
  return out;
}

/** Model names from an Ollama /api/tags body (`models[].name`), or undefined if it is not one. */
export function listOllamaModels(body: string): string[] | undefined {
  const parsed = parseJson(body);
  if (!parsed.ok || !isRecord(parsed.value)) return undefined;
  const models = parsed.value['models'];
  return names(models, 'name');
}

/** Model ids from an OpenAI /v1/models body (`data[].id`), or undefined if it is not one. */
export function listOpenAIModels(body: string): string[] | undefined {
  const parsed = parseJson(body);
  if (!parsed.ok || !isRecord(parsed.value)) return undefined;
  return names(parsed.value['data'], 'id');
}

function ollamaVersion(body: string): string | undefined {
  const parsed = parseJson(body);
  if (!parsed.ok || !isRecord(parsed.value)) return undefined;
  const v = parsed.value['version'];
  return typeof v === 'string' && v.length > 0 && v.length <= 64 ? v : undefined;
}

function describe(path: string, p: ProbeResult | undefined): string {
  if (p === undefined) return `${path} not probed`;
  if (p.status === 0) return `${path}: no answer`;
  if (p.status >= 200 && p.status < 300) return `${path}: unexpected body`;
  return `${path}: HTTP ${p.status}`;
}

/**
 * Decides the upstream kind from probe results (pure; the connector does the HTTP):
 *  1. /api/version answers `{version}` -> Ollama (its native API is preferred over its /v1 layer); models from
 *     /api/tags, else /v1/models.
 *  2. /v1/models answers `{data:[…]}` -> OpenAI-compatible (vLLM, llama.cpp, LM Studio, SGLang).
 *  3. /api/tags answers `{models:[…]}` -> Ollama (an old one without /api/version or /v1).
 * Bodies that are not the expected JSON (an HTML page behind a proxy) count as no answer.
 */
export function detectUpstreamKind(probes: UpstreamProbes): Detection {
  const version = ok(probes.ollamaVersion) ? ollamaVersion(probes.ollamaVersion.body) : undefined;
  const tags = ok(probes.ollamaTags) ? listOllamaModels(probes.ollamaTags.body) : undefined;
  const openai = ok(probes.openaiModels) ? listOpenAIModels(probes.openaiModels.body) : undefined;
  if (version !== undefined) return { kind: 'ollama', models: tags ?? openai ?? [], version };
  if (openai !== undefined) return { kind: 'openai', models: openai };
  if (tags !== undefined) return { kind: 'ollama', models: tags };
  return {
    kind: null,
    reason: `No Ollama or OpenAI-compatible API found (${describe('/api/version', probes.ollamaVersion)}; ${describe('/api/tags', probes.ollamaTags)}; ${describe('/v1/models', probes.openaiModels)}).`,
  };
}

/**
 * The model name to send upstream: the configured one if set; else the deployment name when the upstream serves
 * it (or serves it untagged as `<name>:latest`, which Ollama resolves itself); else the upstream's only model when
 * it serves exactly one; else the deployment name (the upstream will answer model-not-found if it is wrong).
 */
export function chooseUpstreamModel(configModel: string | undefined | null, deploymentName: string, upstreamModels: readonly string[]): string {
  if (configModel != null && configModel.trim().length > 0) return configModel;
  if (upstreamModels.includes(deploymentName) || upstreamModels.includes(`${deploymentName}:latest`)) return deploymentName;
  if (upstreamModels.length === 1) return upstreamModels[0]!;
  return deploymentName;
}

/**
 * llama.cpp's server (llama-server) answers GET /props with its `default_generation_settings` and `total_slots`;
 * no other OpenAI-compatible server has that route. Such a server has /infill, where fill-in-the-middle completions
 * (a `suffix`) go: its /v1/completions ignores `suffix`.
 */
export function isLlamaCppProps(probe: ProbeResult | undefined): boolean {
  if (!ok(probe)) return false;
  const parsed = parseJson(probe.body);
  return parsed.ok && isRecord(parsed.value) && isRecord(parsed.value['default_generation_settings']) && typeof parsed.value['total_slots'] === 'number';
}
