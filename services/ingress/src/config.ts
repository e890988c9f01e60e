import { z } from 'zod';
import { envInt, envUrl, parseEnv } from '@tokios/shared/config';
import { storeEnvSchema } from '@tokios/shared/store';

/** Ingress settings, from the environment (documented in README "Configuration"). */
export const ingressEnvSchema = storeEnvSchema.extend({
  NATS_URL: envUrl('nats://127.0.0.1:4222', ['nats:', 'tls:']),
  TOKIOS_INGRESS_HOST: z.string().default('0.0.0.0'),
  TOKIOS_INGRESS_PORT: envInt(8080, 0, 65535),
  TOKIOS_MAX_BODY_BYTES: envInt(10 * 1024 * 1024, 1024, 256 * 1024 * 1024),
  TOKIOS_ACK_TIMEOUT_MS: envInt(1_000, 50, 60_000),
  TOKIOS_STALL_TIMEOUT_MS: envInt(2_000, 100, 600_000),
  TOKIOS_QUEUE_TIMEOUT_MS: envInt(30_000, 0, 600_000),
  TOKIOS_REQUEST_TIMEOUT_MS: envInt(600_000, 1_000, 24 * 3_600_000),
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
}

export function ingressOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): IngressOptions & { host: string; port: number; natsUrl: string; env: IngressEnv } {
  const e = parseEnv(ingressEnvSchema, env, 'ingress environment');
  return {
    env: e,
    host: e.TOKIOS_INGRESS_HOST,
    port: e.TOKIOS_INGRESS_PORT,
    natsUrl: e.NATS_URL,
    maxBodyBytes: e.TOKIOS_MAX_BODY_BYTES,
    ackTimeoutMs: e.TOKIOS_ACK_TIMEOUT_MS,
    stallTimeoutMs: e.TOKIOS_STALL_TIMEOUT_MS,
    queueTimeoutMs: e.TOKIOS_QUEUE_TIMEOUT_MS,
    requestTimeoutMs: e.TOKIOS_REQUEST_TIMEOUT_MS,
  };
}

export const defaultIngressOptions = (): IngressOptions => {
  const o = ingressOptionsFromEnv({});
  return { maxBodyBytes: o.maxBodyBytes, ackTimeoutMs: o.ackTimeoutMs, stallTimeoutMs: o.stallTimeoutMs, queueTimeoutMs: o.queueTimeoutMs, requestTimeoutMs: o.requestTimeoutMs };
};
