import { z } from 'zod';
import type { NatsConnection } from 'nats';
import { publishSigned, type FabricKey } from '../fabric-auth/index.js';
import { idSchema } from '../protocol/meta.js';
import { subjects } from '../subjects/index.js';

/**
 * Control-plane events on core NATS (`tokios.ctl.<name>`), published by whoever changes the store (admin API,
 * `tokios admin`) and acted on at once by every replica. At-most-once delivery is backed by the store: caches
 * expire on their own, so a lost event delays an effect, it never cancels it. Every event is signed
 * (shared/src/fabric-auth): receivers act only on events from a holder of TOKIOS_FABRIC_SECRET.
 */
export const controlEvents = {
  /** An API key was revoked: ingress replicas drop it from their caches. */
  key_revoked: z.object({ keyId: idSchema, hash: z.string().regex(/^[0-9a-f]{64}$/) }),
  /** A key's limits changed. */
  key_changed: z.object({ keyId: idSchema, hash: z.string().regex(/^[0-9a-f]{64}$/) }),
  /** A tunnel token was revoked: terminators close the tunnels using it. */
  token_revoked: z.object({ tokenId: idSchema, deploymentId: idSchema }),
  /** A deployment or its shares changed (deleted, shared, unshared): drop name-resolution caches. */
  deployment_changed: z.object({ deploymentId: idSchema, tenantId: idSchema }),
  /** An alias was created, changed or deleted: drop name-resolution caches. */
  alias_changed: z.object({ aliasId: idSchema, tenantId: idSchema }),
} as const;

export type ControlEventName = keyof typeof controlEvents;
export type ControlEvent<N extends ControlEventName> = z.infer<(typeof controlEvents)[N]>;

export const controlSubject = (name: ControlEventName): string => subjects.control(name);

/** Parses an event body; undefined when it is not valid JSON or does not match the schema. */
export function parseControlEvent<N extends ControlEventName>(name: N, data: Uint8Array): ControlEvent<N> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return undefined;
  }
  const r = controlEvents[name].safeParse(json);
  return r.success ? (r.data as ControlEvent<N>) : undefined;
}

export function encodeControlEvent<N extends ControlEventName>(name: N, event: ControlEvent<N>): string {
  return JSON.stringify(controlEvents[name].parse(event));
}

/** Publishes one event, signed with the fabric key. */
export function publishControlEvent<N extends ControlEventName>(nc: NatsConnection, key: FabricKey, name: N, event: ControlEvent<N>): void {
  publishSigned(nc, key, controlSubject(name), encodeControlEvent(name, event));
}
