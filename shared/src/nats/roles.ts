import { REQUEST_QUEUE, subjectPatterns as p, subjects } from '../subjects/index.js';
import type { ControlEventName } from '../control/events.js';

/**
 * Who talks on NATS, and what each may publish and subscribe: the least each needs to do its job
 * (docs/SECURITY.md "services ↔ NATS"). The connector never touches NATS. `tokios nats-config` and `tokios dev`
 * turn this table into nats-server users; nothing else decides a permission.
 */
export const NATS_ROLES = ['ingress', 'terminator', 'control', 'admin'] as const;
export type NatsRole = (typeof NATS_ROLES)[number];

export interface RolePermissions {
  publish: string[];
  /** A subject, or `subject queue` for queue subscriptions only. */
  subscribe: string[];
  /** May answer (once, within 2 min) the reply subject of a message it received: status queries. */
  allowResponses: boolean;
}

/** Each role's request replies land under its own inbox prefix, so no other role can read or forge them. */
export const inboxPrefix = (role: NatsRole): string => `_INBOX.${role}`;
const inbox = (role: NatsRole): string => `${inboxPrefix(role)}.>`;
const ctl = (...names: ControlEventName[]): string[] => names.map((n) => subjects.control(n));

export const rolePermissions = {
  ingress: {
    // requests to terminators (a deployment's, or a session home connector's); body parts and cancels to the
    // terminator that acked; quota counts; session homes; live status
    publish: [p.requests, p.connectorRequests, p.terminatorFrames, subjects.quotaDelta, subjects.affinityHomes, subjects.statusQuery],
    // answers to its requests; peers' quota counts and session homes; cache invalidations; status answers
    subscribe: [p.ingressInboxes, subjects.quotaDelta, subjects.affinityHomes, ...ctl('key_revoked', 'key_changed', 'deployment_changed', 'alias_changed'), inbox('ingress')],
    allowResponses: false,
  },
  terminator: {
    // answer frames (a stream of them, hence an explicit allow, not allow_responses); pair heartbeats; presence
    publish: [p.ingressFrames, p.pairHeartbeats, subjects.presence],
    // requests only as a member of the queue group (never every request); its own body/cancel subjects; peers;
    // status queries (answered through allow_responses); token revocations
    subscribe: [`${p.requests} ${REQUEST_QUEUE}`, `${p.connectorRequests} ${REQUEST_QUEUE}`, p.terminatorInboxes, subjects.presence, subjects.statusQuery, ...ctl('token_revoked')],
    allowResponses: true,
  },
  control: {
    publish: [p.controlEvents, subjects.statusQuery],
    subscribe: [inbox('control')],
    allowResponses: false,
  },
  admin: {
    publish: [p.controlEvents, subjects.statusQuery],
    subscribe: [inbox('admin')],
    allowResponses: false,
  },
} satisfies Record<NatsRole, RolePermissions>;
