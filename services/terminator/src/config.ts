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
  };
}
