import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from '@tokios/shared/config';

export const DEFAULT_GATEWAY = 'wss://api.tokios.dev/v1/tunnel';
const MAX_CONFIG_BYTES = 64 * 1024;

const httpUrl = z.string().refine((v) => {
  try {
    return ['http:', 'https:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
}, 'must be an http:// or https:// URL');

const gatewayUrl = z.string().refine((v) => {
  try {
    return ['ws:', 'wss:', 'http:', 'https:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
}, 'must be a ws://, wss://, http:// or https:// URL');

/** tokios.json — documented in README "Connector configuration". */
export const connectorFileSchema = z
  .object({
    tunnel_token: z.string().min(10).max(256),
    upstream: httpUrl,
    gateway: gatewayUrl.default(DEFAULT_GATEWAY),
    model: z.string().min(1).max(256).optional(),
    upstream_kind: z.enum(['openai', 'ollama', 'auto']).default('auto'),
    max_concurrency: z.number().int().min(1).max(10_000).default(8),
    tunnels: z.number().int().min(1).max(8).default(2),
    drain_timeout_ms: z.number().int().min(0).max(3_600_000).default(30_000),
    health_interval_ms: z.number().int().min(100).max(600_000).default(5_000),
  })
  .strict();

export type ConnectorFileConfig = z.infer<typeof connectorFileSchema>;

export interface ConnectorConfig extends ConnectorFileConfig {
  /** Normalized tunnel URL (ws/wss with the tunnel path). */
  gatewayUrl: string;
  /** Upstream base URL without a trailing /v1 or slash. */
  upstreamBase: string;
}

/** http(s) → ws(s); a bare host gets the tunnel path. */
export function normalizeGateway(raw: string): string {
  const u = new URL(raw);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/tunnel';
  return u.toString();
}

/** Users often paste `http://host:8000/v1`; API paths are added by the connector. */
export function normalizeUpstream(raw: string): string {
  return raw.replace(/\/+$/, '').replace(/\/v1$/, '');
}

export function parseConnectorConfig(input: unknown, source = 'config'): ConnectorConfig {
  const r = connectorFileSchema.safeParse(input);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid ${source}:\n${lines.join('\n')}`);
  }
  return { ...r.data, gatewayUrl: normalizeGateway(r.data.gateway), upstreamBase: normalizeUpstream(r.data.upstream) };
}

export async function loadConnectorConfig(path: string): Promise<ConnectorConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) throw new ConfigError(`${path} is larger than ${MAX_CONFIG_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseConnectorConfig(json, path);
}
