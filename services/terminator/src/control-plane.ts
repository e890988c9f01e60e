import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from '@tokios/shared/log';
import { subjects } from '@tokios/shared/subjects';
import { FabricGate, type FabricKey } from '@tokios/shared/fabric-auth';
import {
  controlSubject, parseControlEvent, statusQuerySchema, type StatusQuery, type TerminatorStatus,
} from '@tokios/shared/control';
import { DEFAULT_NATS_MAX_PAYLOAD } from '@tokios/shared/protocol';
import { statusAnswers } from './status-answer.js';

/** What the control plane needs from a terminator. */
export interface ControlTarget {
  /** Live tunnels, optionally only those of some deployments. */
  status(query: StatusQuery): TerminatorStatus;
  /** Closes every tunnel opened with this token (close code 4004) and refuses it from now on. */
  revokeToken(tokenId: string, reason: string): number;
}

/**
 * The terminator's side of the control plane: answers `tokios.status.query` (every terminator answers; the
 * asker merges) and acts on `tokios.ctl.token_revoked` when it is signed by a holder of the fabric secret (a forged
 * one would close a tenant's tunnels). Malformed messages are logged and ignored.
 */
export function subscribeControlPlane(nc: NatsConnection, key: FabricKey, target: ControlTarget, log: Logger): Subscription[] {
  const gate = new FabricGate(key, 'control events', log);
  const status = nc.subscribe(subjects.statusQuery, {
    callback: (_err, msg) => {
      if (!msg.reply) return;
      let query: StatusQuery = {};
      if (msg.data.length > 0) {
        let json: unknown;
        try {
          json = JSON.parse(Buffer.from(msg.data).toString('utf8'));
        } catch {
          log.warn('status query is not JSON; ignored');
          return;
        }
        const parsed = statusQuerySchema.safeParse(json);
        if (!parsed.success) {
          log.warn('status query does not match its schema; ignored');
          return;
        }
        query = parsed.data;
      }
      try {
        const { parts, skipped } = statusAnswers(target.status(query), nc.info?.max_payload ?? DEFAULT_NATS_MAX_PAYLOAD);
        if (skipped > 0) log.warn({ skipped }, 'tunnels left out of a status answer: they do not match its schema');
        for (const part of parts) msg.respond(part);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'cannot answer status query');
      }
    },
  });
  const revoked = nc.subscribe(controlSubject('token_revoked'), {
    callback: (_err, msg) => {
      if (!gate.accept(msg)) return;
      const ev = parseControlEvent('token_revoked', msg.data);
      if (!ev) {
        log.warn('malformed token_revoked event; ignored');
        return;
      }
      const closed = target.revokeToken(ev.tokenId, 'tunnel token revoked');
      log.info({ tokenId: ev.tokenId, deploymentId: ev.deploymentId, closed }, 'tunnel token revoked');
    },
  });
  return [status, revoked];
}
