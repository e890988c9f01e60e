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

const tunnelToken = z.string().min(10).max(256);
const modelName = z.string().min(1).max(256);
const maxConcurrency = z.number().int().min(1).max(10_000);
const tunnelCount = z.number().int().min(1).max(8);

/** One deployment served from the shared model server: its own token, model and caps. */
const deploymentEntrySchema = z
  .object({
    tunnel_token: tunnelToken,
    model: modelName.optional(),
    max_concurrency: maxConcurrency.optional(),
    tunnels: tunnelCount.optional(),
  })
  .strict();

/** Deployments one connector process may serve (each holds `tunnels` WebSockets). */
export const MAX_DEPLOYMENTS = 32;

/** tokios.json — documented in README "Connector configuration". */
export const connectorFileSchema = z
  .object({
    tunnel_token: tunnelToken.optional(),
    /** Several deployments from one model server, instead of `tunnel_token` (and `model`). */
    deployments: z.array(deploymentEntrySchema).min(1).max(MAX_DEPLOYMENTS).optional(),
    upstream: httpUrl,
    gateway: gatewayUrl.default(DEFAULT_GATEWAY),
    model: modelName.optional(),
    upstream_kind: z.enum(['openai', 'ollama', 'auto']).default('auto'),
    /** With `deployments`: the default of each entry. */
    max_concurrency: maxConcurrency.default(8),
    tunnels: tunnelCount.default(2),
    drain_timeout_ms: z.number().int().min(0).max(3_600_000).default(30_000),
    health_interval_ms: z.number().int().min(100).max(600_000).default(5_000),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.deployments === undefined && c.tunnel_token === undefined) {
      ctx.addIssue({ code: 'custom', path: ['tunnel_token'], message: 'required (or a "deployments" list)' });
    }
    if (c.deployments !== undefined && c.tunnel_token !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['tunnel_token'], message: 'give either tunnel_token or deployments, not both' });
    }
    if (c.deployments !== undefined && c.model !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['model'], message: 'with "deployments", set model on each entry' });
    }
    const seen = new Set<string>();
    c.deployments?.forEach((d, i) => {
      if (seen.has(d.tunnel_token)) ctx.addIssue({ code: 'custom', path: ['deployments', i, 'tunnel_token'], message: 'the same token twice' });
      seen.add(d.tunnel_token);
    });
  });

export type ConnectorFileConfig = z.infer<typeof connectorFileSchema>;

/** One deployment this process serves, with the caps it has (defaults filled in). */
export interface DeploymentConfig {
  tunnel_token: string;
  model?: string;
  max_concurrency: number;
  tunnels: number;
}

/**
 * The configuration of one deployment's connector: the shared settings plus that deployment's token, model and caps
 * (what `Connector` reads).
 */
export interface ConnectorConfig extends Omit<ConnectorFileConfig, 'tunnel_token' | 'deployments'> {
  tunnel_token: string;
  /** Every deployment of the file, in order (the single-deployment form gives one). */
  deployments: DeploymentConfig[];
  /** Normalized tunnel URL (ws/wss with the tunnel path). */
  gatewayUrl: string;
  /** Upstream base URL without a trailing /v1 or slash. */
  upstreamBase: string;
}

/** The config one deployment's Connector runs with. */
export function forDeployment(config: ConnectorConfig, d: DeploymentConfig): ConnectorConfig {
  const out: ConnectorConfig = { ...config, tunnel_token: d.tunnel_token, max_concurrency: d.max_concurrency, tunnels: d.tunnels, deployments: [d] };
  if (d.model === undefined) delete out.model;
  else out.model = d.model;
  return out;
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
  const { tunnel_token, deployments, ...shared } = r.data;
  const list: DeploymentConfig[] =
    deployments?.map((d) => ({ tunnel_token: d.tunnel_token, ...(d.model === undefined ? {} : { model: d.model }), max_concurrency: d.max_concurrency ?? shared.max_concurrency, tunnels: d.tunnels ?? shared.tunnels })) ??
    [{ tunnel_token: tunnel_token!, ...(shared.model === undefined ? {} : { model: shared.model }), max_concurrency: shared.max_concurrency, tunnels: shared.tunnels }];
  return { ...shared, tunnel_token: list[0]!.tunnel_token, deployments: list, gatewayUrl: normalizeGateway(shared.gateway), upstreamBase: normalizeUpstream(shared.upstream) };
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
