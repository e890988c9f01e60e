import { z } from 'zod';
import { envInt, parseEnv } from '@tokios/shared/config';
import { natsSettingsFromEnv, type NatsSettings } from '@tokios/shared/nats';
import { storeEnvSchema } from '@tokios/shared/store';
import { DEFAULT_TUNNEL_FRAME_BYTES, MAX_TUNNEL_FRAME_BYTES, MIN_TUNNEL_FRAME_BYTES } from '@tokios/shared/protocol';

/** Terminator settings, from the environment (documented in README "Configuration"). */
export const terminatorEnvSchema = storeEnvSchema.extend({
  TOKIOS_TERMINATOR_HOST: z.string().default('0.0.0.0'),
  TOKIOS_TERMINATOR_PORT: envInt(8081, 0, 65535),
  /** URL connectors use to reach this terminator directly; shared with connectors so they spread tunnels. */
  TOKIOS_PUBLIC_TUNNEL_URL: z.string().url().optional(),
  TOKIOS_HEARTBEAT_MS: envInt(250, 50, 60_000),
  TOKIOS_TUNNEL_PING_MS: envInt(5_000, 100, 120_000),
  TOKIOS_MAX_FRAME_BYTES: envInt(DEFAULT_TUNNEL_FRAME_BYTES, MIN_TUNNEL_FRAME_BYTES, MAX_TUNNEL_FRAME_BYTES),
  TOKIOS_MAX_TUNNEL_BUFFER_BYTES: envInt(16 * 1024 * 1024, 1024 * 1024, 1024 * 1024 * 1024),
  TOKIOS_DRAIN_MS: envInt(30_000, 0, 3_600_000),
  /** Peer hosts connectors may move to besides the gateway's own: `host` or `*.domain`, comma-separated. */
  TOKIOS_PEER_HOSTS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^(\*\.)?[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, 'a host name or *.domain')).max(64)),
  TOKIOS_MAX_TUNNELS_PER_TOKEN: envInt(32, 1, 100_000),
  TOKIOS_TUNNEL_UPGRADES_PER_MIN: envInt(120, 1, 1_000_000),
});

export type TerminatorEnv = z.infer<typeof terminatorEnvSchema>;

export interface TerminatorOptions {
  /** Key of signed fabric messages (TOKIOS_FABRIC_SECRET); undefined → unsigned. */
  fabricSecret?: string | undefined;
  /** Advertised tunnel URL of this terminator, if connectors can reach it directly. */
  publicUrl?: string | undefined;
  heartbeatMs: number;
  pingIntervalMs: number;
  /** Largest frame accepted from a connector (announced to it in Welcome). */
  maxFrameBytes: number;
  maxTunnelBufferBytes: number;
  /** On SIGTERM, how long streams in flight may take to finish before the tunnels are closed (default 30 s). */
  drainMs?: number;
  /** Operator allow-list of peer hosts, sent to connectors in Welcome (default: only the gateway's host). */
  peerHosts?: string[];
  /** Live tunnels one token may hold on this terminator (default 32); more are refused with 429. */
  maxTunnelsPerToken?: number;
  /** Tunnel upgrades one token may make per minute on this terminator (default 120); more are refused with 429. */
  tunnelUpgradesPerMin?: number;
}

export function terminatorOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): TerminatorOptions & { host: string; port: number; nats: NatsSettings; env: TerminatorEnv } {
  const e = parseEnv(terminatorEnvSchema, env, 'terminator environment');
  const nats = natsSettingsFromEnv(env);
  return {
    env: e,
    host: e.TOKIOS_TERMINATOR_HOST,
    port: e.TOKIOS_TERMINATOR_PORT,
    nats,
    fabricSecret: nats.fabricSecret,
    publicUrl: e.TOKIOS_PUBLIC_TUNNEL_URL,
    heartbeatMs: e.TOKIOS_HEARTBEAT_MS,
    pingIntervalMs: e.TOKIOS_TUNNEL_PING_MS,
    maxFrameBytes: e.TOKIOS_MAX_FRAME_BYTES,
    maxTunnelBufferBytes: e.TOKIOS_MAX_TUNNEL_BUFFER_BYTES,
    drainMs: e.TOKIOS_DRAIN_MS,
    peerHosts: e.TOKIOS_PEER_HOSTS,
    maxTunnelsPerToken: e.TOKIOS_MAX_TUNNELS_PER_TOKEN,
    tunnelUpgradesPerMin: e.TOKIOS_TUNNEL_UPGRADES_PER_MIN,
  };
}
