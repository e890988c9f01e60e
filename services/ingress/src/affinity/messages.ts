import { z } from 'zod';
import type { Msg, NatsConnection } from 'nats';
import { idSchema } from '@tokios/shared/protocol';
import { subjects } from '@tokios/shared/subjects';
import { publishSigned, type FabricGate, type FabricKey } from '@tokios/shared/fabric-auth';
import { decodeBroadcast } from '../replica-broadcast.js';

/**
 * `tokios.affinity.home`: session homes one ingress replica learned from Acks, for the others:
 * `{ from, h: [[sessionKey, connectorId], …] }`. A session key is already a hash (shared/src/routing/session-key.ts),
 * never a client's value or prompt text. Signed (shared/src/fabric-auth): a forged home could pile sessions onto one
 * connector.
 */
export const MAX_HOME_ENTRIES = 500;
/** ~75 bytes per entry: 500 entries stay well under the smallest max_payload a deployment would set (64 KiB). */
export const MAX_HOMES_BYTES = 64 * 1024;

const SESSION_KEY = /^[0-9a-f]{32}$/;
export const homeEntrySchema = z.tuple([z.string().regex(SESSION_KEY), idSchema]);
/** Entries are checked one by one: a bad entry is skipped, the rest of the message still counts. */
const homesSchema = z.object({ from: idSchema, h: z.array(z.unknown()).max(MAX_HOME_ENTRIES) });

export type HomeEntry = z.infer<typeof homeEntrySchema>;
export interface ReceivedHomes {
  from: string;
  h: HomeEntry[];
  skipped: number;
}

/** undefined when oversized, not JSON or not a homes message; invalid entries are skipped and counted. */
export function decodeHomes(data: Uint8Array): ReceivedHomes | undefined {
  const r = decodeBroadcast(data, MAX_HOMES_BYTES, homesSchema, (m) => m.h, homeEntrySchema);
  return r && { from: r.message.from, h: r.entries, skipped: r.skipped };
}

export function publishHomes(nc: NatsConnection, key: FabricKey, from: string, h: HomeEntry[]): void {
  publishSigned(nc, key, subjects.affinityHomes, JSON.stringify({ from, h }));
}

/** The homes in a received message; 'refused' when its signature is (counted by the gate), undefined when malformed. */
export function readHomes(gate: FabricGate, msg: Msg): ReceivedHomes | 'refused' | undefined {
  if (!gate.accept(msg)) return 'refused';
  return decodeHomes(msg.data);
}
