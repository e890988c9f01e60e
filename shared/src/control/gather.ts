import { RequestStrategy, type NatsConnection } from 'nats';
import { subjects } from '../subjects/index.js';
import { terminatorStatusSchema, type StatusQuery, type TerminatorStatus } from './status.js';

const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/**
 * Asks every terminator for its live tunnels (`tokios.status.query`) and collects the answers that arrive within
 * `windowMs`. Malformed answers are skipped. No terminator → an empty list (nobody is online).
 */
export async function gatherStatus(nc: NatsConnection, query: StatusQuery = {}, windowMs = 150): Promise<TerminatorStatus[]> {
  const out: TerminatorStatus[] = [];
  let replies;
  try {
    replies = await nc.requestMany(subjects.statusQuery, JSON.stringify(query), { maxWait: windowMs, strategy: RequestStrategy.Timer });
  } catch {
    return out;
  }
  try {
    for await (const msg of replies) {
      if (msg.data.length === 0 || msg.data.length > MAX_ANSWER_BYTES) continue;
      let json: unknown;
      try {
        json = JSON.parse(Buffer.from(msg.data).toString('utf8'));
      } catch {
        continue;
      }
      const r = terminatorStatusSchema.safeParse(json);
      if (r.success) out.push(r.data);
    }
  } catch {
    // no responders / timeout end the iteration; what arrived stands
  }
  return out;
}

/** Deployment ids that have at least one healthy, non-draining tunnel somewhere. */
export function onlineDeployments(statuses: TerminatorStatus[]): Set<string> {
  const ids = new Set<string>();
  for (const s of statuses) for (const t of s.tunnels) if (t.healthy && !t.draining) ids.add(t.deploymentId);
  return ids;
}
