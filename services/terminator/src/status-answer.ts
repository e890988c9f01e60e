import { tunnelStatusSchema, type TerminatorStatus } from '@tokios/shared/control';

/** Room left in each NATS message for the envelope and headers. */
const ENVELOPE_BYTES = 1_024;

/**
 * A terminator's answer to `tokios.status.query`, as NATS messages that each fit `maxPayload`: every part is a
 * whole `TerminatorStatus` (same terminator id and url, some of the tunnels), and the asker merges the parts like
 * answers of several terminators. One message used to carry all of them: about 330 bytes a tunnel, so past ~3,000
 * tunnels (1 MiB, the default max_payload) the answer could not be sent at all and the terminator looked empty.
 * A tunnel entry that does not match the schema is left out (logged by the caller), not the whole answer.
 */
export function statusAnswers(status: TerminatorStatus, maxPayload: number): { parts: string[]; skipped: number } {
  const head = `{"terminatorId":${JSON.stringify(status.terminatorId)},"url":${JSON.stringify(status.url)},"tunnels":[`;
  const budget = Math.max(4_096, maxPayload - ENVELOPE_BYTES) - head.length - 2;
  const parts: string[] = [];
  let entries: string[] = [];
  let bytes = 0;
  let skipped = 0;
  const flush = (): void => {
    parts.push(`${head}${entries.join(',')}]}`);
    entries = [];
    bytes = 0;
  };
  for (const t of status.tunnels) {
    const r = tunnelStatusSchema.safeParse(t);
    if (!r.success) {
      skipped++;
      continue;
    }
    const json = JSON.stringify(r.data);
    const len = Buffer.byteLength(json) + 1;
    if (entries.length > 0 && bytes + len > budget) flush();
    entries.push(json);
    bytes += len;
  }
  if (entries.length > 0 || parts.length === 0) flush();
  return { parts, skipped };
}
