import { z } from 'zod';
import { ConfigError, envInt, parseEnv } from '@tokios/shared/config';
import { natsSettingsFromEnv, type NatsSettings } from '@tokios/shared/nats';
import { storeEnvSchema } from '@tokios/shared/store';
import type { ControlPlaneOptions } from './control-plane.js';
import type { AffinityOptions } from './affinity/homes.js';

/**
 * On SIGTERM, how long /readyz says "draining" while the listener still serves, before it closes: a load balancer
 * needs a probe period or two to stop sending new connections.
 */
export const DEFAULT_SHUTDOWN_DELAY_MS = 5_000;

/** Unsent answer bytes at which a stream is paused, unless TOKIOS_PAUSE_UNSENT_BYTES says otherwise. */
const DEFAULT_PAUSE_UNSENT_BYTES = 1024 * 1024;

/** Ingress settings, from the environment (documented in README "Configuration"). */
export const ingressEnvSchema = storeEnvSchema.extend({
  TOKIOS_INGRESS_HOST: z.string().default('0.0.0.0'),
  TOKIOS_INGRESS_PORT: envInt(8080, 0, 65535),
  TOKIOS_MAX_BODY_BYTES: envInt(10 * 1024 * 1024, 1024, 256 * 1024 * 1024),
  TOKIOS_ACK_TIMEOUT_MS: envInt(1_000, 50, 60_000),
  TOKIOS_STALL_TIMEOUT_MS: envInt(900, 100, 600_000),
  TOKIOS_QUEUE_TIMEOUT_MS: envInt(30_000, 0, 600_000),
  TOKIOS_REQUEST_TIMEOUT_MS: envInt(600_000, 1_000, 24 * 3_600_000),
  TOKIOS_SHUTDOWN_GRACE_MS: envInt(10_000, 0, 3_600_000),
  TOKIOS_RECEIVE_TIMEOUT_MS: envInt(120_000, 1_000, 3_600_000),
  TOKIOS_MAX_ANSWER_BYTES: envInt(32 * 1024 * 1024, 64 * 1024, 4 * 1024 * 1024 * 1024),
  TOKIOS_MAX_UNSENT_ANSWER_BYTES: envInt(8 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
  TOKIOS_PAUSE_UNSENT_BYTES: envInt(DEFAULT_PAUSE_UNSENT_BYTES, 16 * 1024, 1024 * 1024 * 1024),
  TOKIOS_MAX_CALLER_PAUSE_MS: envInt(60_000, 1_000, 24 * 3_600_000),
  TOKIOS_SHUTDOWN_DELAY_MS: envInt(DEFAULT_SHUTDOWN_DELAY_MS, 0, 600_000),
  // Control plane (docs/ingress-control.md)
  TOKIOS_AUTH_CACHE_TTL_MS: envInt(30_000, 0, 3_600_000),
  TOKIOS_AUTH_CACHE_NEGATIVE_TTL_MS: envInt(2_000, 0, 600_000),
  TOKIOS_AUTH_CACHE_MAX_STALE_MS: envInt(300_000, 0, 24 * 3_600_000),
  TOKIOS_AUTH_CACHE_MAX_ENTRIES: envInt(50_000, 1, 10_000_000),
  TOKIOS_USAGE_FLUSH_MS: envInt(1_000, 10, 600_000),
  TOKIOS_USAGE_BATCH: envInt(500, 1, 10_000),
  TOKIOS_USAGE_MAX_BUFFERED: envInt(100_000, 100, 10_000_000),
  TOKIOS_QUOTA_SYNC_MS: envInt(1_000, 10, 5_000),
  TOKIOS_QUOTA_SYNC_WAIT_MS: envInt(250, 10, 5_000),
  // Cache-affine placement (README "Cache-affine placement")
  TOKIOS_AFFINITY: z.enum(['on', 'off'], { error: 'TOKIOS_AFFINITY must be "on" or "off"' }).default('on'),
  TOKIOS_AFFINITY_MAX_SESSIONS: envInt(100_000, 1, 10_000_000),
  TOKIOS_AFFINITY_TTL_MS: envInt(30 * 60_000, 1_000, 7 * 24 * 3_600_000),
  TOKIOS_AFFINITY_SYNC_MS: envInt(250, 5, 10_000),
});
export type IngressEnv = z.infer<typeof ingressEnvSchema>;

export interface IngressOptions {
  maxBodyBytes: number;
  /** No Ack from a terminator within this → retry once elsewhere, then 503. */
  ackTimeoutMs: number;
  /** No frame (not even a heartbeat) for this long after the Ack → the stream fails. */
  stallTimeoutMs: number;
  /** How long a request may wait for a free connector when all are busy. */
  queueTimeoutMs: number;
  /** Hard cap on a whole request. */
  requestTimeoutMs: number;
  /** How long "no responders" answers are retried (default NO_RESPONDERS_WINDOW_MS; not an env knob). */
  noRespondersWindowMs?: number;
  /** On shutdown, how long requests in flight may take to finish before connections are cut. */
  shutdownGraceMs: number;
  /** A request's headers and body must arrive within this (408 after; slow-loris sockets do not stay open). */
  receiveTimeoutMs: number;
  /** Largest answer (bytes from the connector) relayed to a caller: above it the call is cancelled and fails 502. */
  maxAnswerBytes: number;
  /**
   * Answer bytes written but not yet taken by a caller that stopped reading, past which the call is cancelled
   * whatever else holds (the last resort: a connector that does not know Pause keeps sending).
   */
  maxUnsentAnswerBytes: number;
  /** Unsent answer bytes past which the stream is paused at the connector until the caller drains (below the cap). */
  pauseUnsentBytes: number;
  /** A stream paused this long (the caller still not reading) is cancelled. */
  maxCallerPauseMs: number;
  /** On shutdown, how long readiness fails before the listener closes (default 0). */
  shutdownDelayMs?: number;
  /** Key of signed fabric messages (TOKIOS_FABRIC_SECRET); undefined → unsigned. */
  fabricSecret?: string | undefined;
  /** Auth cache, usage accounting and quotas; defaults when absent. */
  controlPlane?: ControlPlaneOptions;
  /** Cache-affine placement (session homes); absent: placement by load alone. */
  affinity?: AffinityOptions;
}

export function ingressOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): IngressOptions & { host: string; port: number; nats: NatsSettings; env: IngressEnv } {
  const e = parseEnv(ingressEnvSchema, env, 'ingress environment');
  const nats = natsSettingsFromEnv(env);
  return {
    ...answerFlow(e, Boolean(env.TOKIOS_PAUSE_UNSENT_BYTES)),
    env: e,
    host: e.TOKIOS_INGRESS_HOST,
    port: e.TOKIOS_INGRESS_PORT,
    nats,
    fabricSecret: nats.fabricSecret,
    maxBodyBytes: e.TOKIOS_MAX_BODY_BYTES,
    ackTimeoutMs: e.TOKIOS_ACK_TIMEOUT_MS,
    stallTimeoutMs: e.TOKIOS_STALL_TIMEOUT_MS,
    queueTimeoutMs: e.TOKIOS_QUEUE_TIMEOUT_MS,
    requestTimeoutMs: e.TOKIOS_REQUEST_TIMEOUT_MS,
    shutdownGraceMs: e.TOKIOS_SHUTDOWN_GRACE_MS,
    receiveTimeoutMs: e.TOKIOS_RECEIVE_TIMEOUT_MS,
    maxAnswerBytes: e.TOKIOS_MAX_ANSWER_BYTES,
    shutdownDelayMs: e.TOKIOS_SHUTDOWN_DELAY_MS,
    affinity: { enabled: e.TOKIOS_AFFINITY === 'on', maxSessions: e.TOKIOS_AFFINITY_MAX_SESSIONS, ttlMs: e.TOKIOS_AFFINITY_TTL_MS, syncMs: e.TOKIOS_AFFINITY_SYNC_MS },
    controlPlane: {
      authCache: {
        ttlMs: e.TOKIOS_AUTH_CACHE_TTL_MS,
        negativeTtlMs: e.TOKIOS_AUTH_CACHE_NEGATIVE_TTL_MS,
        maxStaleMs: Math.max(e.TOKIOS_AUTH_CACHE_MAX_STALE_MS, e.TOKIOS_AUTH_CACHE_TTL_MS),
        maxEntries: e.TOKIOS_AUTH_CACHE_MAX_ENTRIES,
      },
      usage: { flushMs: e.TOKIOS_USAGE_FLUSH_MS, batchSize: e.TOKIOS_USAGE_BATCH, maxBuffered: e.TOKIOS_USAGE_MAX_BUFFERED },
      quota: { syncMs: e.TOKIOS_QUOTA_SYNC_MS, maxKeys: 100_000, syncWaitMs: e.TOKIOS_QUOTA_SYNC_WAIT_MS },
    },
  };
}

/**
 * The unsent-bytes marks of a streaming answer: the pause mark must lie below the cap. Set explicitly at or above it,
 * that is a startup error; the default (1 MiB) is lowered to half a smaller cap.
 */
function answerFlow(e: IngressEnv, pauseSet: boolean): Pick<IngressOptions, 'maxUnsentAnswerBytes' | 'pauseUnsentBytes' | 'maxCallerPauseMs'> {
  const cap = e.TOKIOS_MAX_UNSENT_ANSWER_BYTES;
  const pause = e.TOKIOS_PAUSE_UNSENT_BYTES;
  if (pauseSet && pause >= cap) {
    throw new ConfigError(`invalid ingress environment:\n  TOKIOS_PAUSE_UNSENT_BYTES: must be below TOKIOS_MAX_UNSENT_ANSWER_BYTES (${cap})`);
  }
  return { maxUnsentAnswerBytes: cap, pauseUnsentBytes: Math.min(pause, Math.floor(cap / 2)), maxCallerPauseMs: e.TOKIOS_MAX_CALLER_PAUSE_MS };
}

export const defaultIngressOptions = (): IngressOptions => {
  const o = ingressOptionsFromEnv({});
  return {
    maxBodyBytes: o.maxBodyBytes, ackTimeoutMs: o.ackTimeoutMs, stallTimeoutMs: o.stallTimeoutMs, queueTimeoutMs: o.queueTimeoutMs, requestTimeoutMs: o.requestTimeoutMs,
    shutdownGraceMs: o.shutdownGraceMs, receiveTimeoutMs: o.receiveTimeoutMs, maxAnswerBytes: o.maxAnswerBytes, maxUnsentAnswerBytes: o.maxUnsentAnswerBytes,
    pauseUnsentBytes: o.pauseUnsentBytes, maxCallerPauseMs: o.maxCallerPauseMs,
  };
};
