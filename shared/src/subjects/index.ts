/**
 * Every NATS subject Tokios uses is built here and nowhere else.
 *
 *   tokios.req.<deploymentId>            request for a deployment (queue group tokios-terminators)
 *   tokios.req.<deploymentId>.<connectorId>  request for one connector of it, a session's home (same queue group)
 *   tokios.in.<ingressId>.<rid>          frames back to the ingress that holds the caller
 *   tokios.in.<ingressId>.hb.<terminatorId>  that terminator's PairHeartbeat for the ingress's silent streams
 *   tokios.term.<terminatorId>.<rid>     body parts and cancels to the terminator that took a request
 *   tokios.term.<terminatorId>.hb.<ingressId>  reply of a PairHeartbeat: no-responders notices when that ingress is gone
 *   tokios.presence.terminator           terminators announce themselves (tunnel URL) for connector spreading
 *   tokios.ctl.<event>                   control-plane events (revocations, limits; see shared/src/control)
 *   tokios.status.query                  scatter-gather: every terminator answers with its live tunnels
 *   tokios.quota.delta                   ingress replicas share per-key request/token counts
 *   tokios.affinity.home                 ingress replicas share session homes (session key hash -> connector)
 */
/** A subject token: what every id on the fabric is (ID_PATTERN). isToken is its check. */
export const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

export class SubjectTokenError extends Error {
  override readonly name = 'SubjectTokenError';
}

/**
 * TOKEN.test(value) as a loop over the characters: every request builds and reads several subjects (its deployment's,
 * its inbox, its terminator's, the inbox it is answered on), and a regex run costs several times a short loop (the
 * subjects test checks both agree).
 */
export function isToken(value: string): boolean {
  const n = value.length;
  if (n === 0 || n > 64) return false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d)) return false;
  }
  return true;
}

export function token(value: string): string {
  if (!isToken(value)) throw new SubjectTokenError(`not a safe subject token: ${JSON.stringify(value).slice(0, 80)}`);
  return value;
}

export const REQUEST_QUEUE = 'tokios-terminators';

export const subjects = {
  request: (deploymentId: string) => `tokios.req.${token(deploymentId)}`,
  connectorRequest: (deploymentId: string, connectorId: string) => `tokios.req.${token(deploymentId)}.${token(connectorId)}`,
  ingressInboxPrefix: (ingressId: string) => `tokios.in.${token(ingressId)}.`,
  ingressInbox: (ingressId: string, rid: string) => `tokios.in.${token(ingressId)}.${token(rid)}`,
  /** Five tokens: never a request inbox (four), though under the ingress's one wildcard subscription. */
  pairHeartbeatPrefix: (ingressId: string) => `tokios.in.${token(ingressId)}.hb.`,
  pairHeartbeat: (ingressId: string, terminatorId: string) => `tokios.in.${token(ingressId)}.hb.${token(terminatorId)}`,
  terminatorPrefix: (terminatorId: string) => `tokios.term.${token(terminatorId)}.`,
  pairHeartbeatReplyPrefix: (terminatorId: string) => `tokios.term.${token(terminatorId)}.hb.`,
  pairHeartbeatReply: (terminatorId: string, ingressId: string) => `tokios.term.${token(terminatorId)}.hb.${token(ingressId)}`,
  terminator: (terminatorId: string, rid: string) => `tokios.term.${token(terminatorId)}.${token(rid)}`,
  presence: 'tokios.presence.terminator',
  control: (event: string) => `tokios.ctl.${token(event)}`,
  statusQuery: 'tokios.status.query',
  quotaDelta: 'tokios.quota.delta',
  affinityHomes: 'tokios.affinity.home',
} as const;

/** Wildcard patterns over the subjects above, as NATS permissions name them (shared/src/nats/roles.ts). */
export const subjectPatterns = {
  /** Every deployment's request subject. */
  requests: 'tokios.req.*',
  /** Every connector's own request subject (`tokios.req.<deploymentId>.<connectorId>`). */
  connectorRequests: 'tokios.req.*.*',
  /** Frames to any ingress's request inbox (`tokios.in.<ingressId>.<rid>`). */
  ingressFrames: 'tokios.in.*.*',
  /** A terminator's PairHeartbeat to any ingress (`tokios.in.<ingressId>.hb.<terminatorId>`). */
  pairHeartbeats: 'tokios.in.*.hb.*',
  /** An ingress's wildcard inbox subscription. */
  ingressInboxes: 'tokios.in.*.>',
  /** Body parts and cancels to any terminator (`tokios.term.<terminatorId>.<rid>`). */
  terminatorFrames: 'tokios.term.*.*',
  /** A terminator's wildcard subscription. */
  terminatorInboxes: 'tokios.term.*.>',
  /** Every control event. */
  controlEvents: 'tokios.ctl.*',
} as const;

/** Wildcard that matches everything under a prefix built above. */
export function wildcard(prefix: string): string {
  return `${prefix}>`;
}

/**
 * The terminator and request id of a `tokios.term.<terminatorId>.<rid>` subject (a frame's reply subject), or
 * undefined for anything else: reply subjects come from the network and are checked before anything is sent there.
 */
export function parseTerminatorSubject(subject: string): { terminatorId: string; rid: string } | undefined {
  const parts = subject.split('.');
  if (parts.length !== 4 || parts[0] !== 'tokios' || parts[1] !== 'term') return undefined;
  const [, , terminatorId, rid] = parts as [string, string, string, string];
  return isToken(terminatorId) && isToken(rid) ? { terminatorId, rid } : undefined;
}

const INGRESS_INBOX_HEAD = 'tokios.in.';

/**
 * Whether `subject` is exactly `subjects.ingressInbox(ingressId, rid)`, compared in place instead of built (the
 * terminator asks once per request). Ids are valid subject tokens (their schema), so the match needs no token check.
 */
export function isIngressInbox(subject: string, ingressId: string, rid: string): boolean {
  const dot = INGRESS_INBOX_HEAD.length + ingressId.length;
  return (
    subject.length === dot + 1 + rid.length &&
    subject.startsWith(INGRESS_INBOX_HEAD) &&
    subject.startsWith(ingressId, INGRESS_INBOX_HEAD.length) &&
    subject.charCodeAt(dot) === 0x2e &&
    subject.endsWith(rid)
  );
}

/** Last token of a subject under a known prefix, or undefined when it does not match. */
export function tailToken(subject: string, prefix: string): string | undefined {
  if (!subject.startsWith(prefix)) return undefined;
  const rest = subject.slice(prefix.length);
  return isToken(rest) ? rest : undefined;
}
