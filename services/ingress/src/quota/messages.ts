import { z } from 'zod';
import type { Msg, NatsConnection } from 'nats';
import { idSchema } from '@tokios/shared/protocol';
import { subjects } from '@tokios/shared/subjects';
import { publishSigned, type FabricGate, type FabricKey } from '@tokios/shared/fabric-auth';
import { decodeBroadcast } from '../replica-broadcast.js';

/**
 * `tokios.quota.delta`: what one ingress replica counted since its last message, per key and second:
 * `{ from, d: [[keyId, epochSecond, requests, tokens], …] }`. An empty `d` is a heartbeat (replica alive).
 * Signed (shared/src/fabric-auth): a forged delta could put a victim's key into 429.
 */
export const MAX_DELTA_ENTRIES = 2_000;
/** Bytes of one message; ~60 per entry leaves room. */
export const MAX_DELTA_BYTES = 256 * 1024;

/** Largest counts one entry may carry: a sender clamps to these, so its message is never refused for a count. */
export const MAX_DELTA_REQUESTS = 1e9;
export const MAX_DELTA_TOKENS = 1e12;
/** Answers to other replicas' sync rounds one message may carry (one per asking peer). */
export const MAX_DELTA_ACKS = 1_000;

export const deltaEntrySchema = z.tuple([
  idSchema,
  z.number().int().min(0).max(1e11),
  z.number().int().min(0).max(MAX_DELTA_REQUESTS),
  z.number().int().min(0).max(MAX_DELTA_TOKENS),
]);
/** Entries are checked one by one (decodeDelta): a bad entry is skipped, the rest of the message still counts. */
export const quotaDeltaSchema = z.object({
  from: idSchema,
  d: z.array(z.unknown()).max(MAX_DELTA_ENTRIES),
  /** Set by a replica that just started: peers answer with a heartbeat so it learns them at once. */
  hello: z.boolean().optional(),
  /** A sync round near a limit (sync-rounds.ts): every peer answers with its counts and `ack: [[from, sync]]`. */
  sync: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
  /** Answers to peers' sync rounds: [replica that asked, its round]. */
  ack: z.array(z.tuple([idSchema, z.number().int().positive().max(Number.MAX_SAFE_INTEGER)])).max(MAX_DELTA_ACKS).optional(),
});

export type DeltaEntry = z.infer<typeof deltaEntrySchema>;
export interface QuotaDelta {
  from: string;
  d: DeltaEntry[];
  hello?: boolean | undefined;
  sync?: number | undefined;
  ack?: [string, number][] | undefined;
}
/** A received delta: its valid entries, and how many were skipped. */
export interface ReceivedDelta extends QuotaDelta {
  skipped: number;
}

export function encodeDelta(delta: QuotaDelta): string {
  return JSON.stringify(delta);
}

/** undefined when oversized, not JSON, or not a delta; entries that are not valid are skipped and counted. */
export function decodeDelta(data: Uint8Array): ReceivedDelta | undefined {
  const r = decodeBroadcast(data, MAX_DELTA_BYTES, quotaDeltaSchema, (m) => m.d, deltaEntrySchema);
  return r && { from: r.message.from, d: r.entries, hello: r.message.hello, sync: r.message.sync, ack: r.message.ack, skipped: r.skipped };
}

/** Publishes one delta, signed. */
export function publishDelta(nc: NatsConnection, key: FabricKey, delta: QuotaDelta): void {
  publishSigned(nc, key, subjects.quotaDelta, encodeDelta(delta));
}

/** The delta in a received message; undefined when its signature is refused (counted by the gate) or it is malformed. */
export function readDelta(gate: FabricGate, msg: Msg): ReceivedDelta | 'refused' | undefined {
  if (!gate.accept(msg)) return 'refused';
  return decodeDelta(msg.data);
}
