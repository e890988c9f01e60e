import { timingSafeEqual } from 'node:crypto';
import type { FabricKey } from './index.js';

/**
 * Tunnel tickets: what a connector presents to a peer terminator instead of its long-lived tunnel token. Its current
 * terminator issues one in every Welcome, signed with TOKIOS_FABRIC_SECRET (which every terminator holds) and bound
 * to the tunnel's deployment, token and an expiry:
 *
 *   tkt1.<deploymentId>.<tokenId>.<expires unix ms>.<base64url HMAC-SHA256(secret, "tokios tunnel ticket v1\n" deploymentId "." tokenId "." expires)>
 *
 * A peer that is not what it claims learns only a ticket that expires within minutes and is worth nothing once the
 * token is revoked (the receiving terminator checks the token in the store as it would for the token itself).
 */
export const TUNNEL_TICKET_PREFIX = 'tkt1.';
/** Lifetime of a ticket; a terminator re-sends Welcome with a fresh one when the last is half this old. */
export const TUNNEL_TICKET_TTL_MS = 120_000;
const PURPOSE = 'tokios tunnel ticket v1';
const TICKET = /^tkt1\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{1,64})\.(\d{13})\.([A-Za-z0-9_-]{43})$/;

export interface TunnelTicket {
  deploymentId: string;
  tokenId: string;
  expiresAt: number;
}

/** A ticket for this tunnel, or undefined without a fabric secret (then there is nothing a peer could check it with). */
export function issueTunnelTicket(key: FabricKey, deploymentId: string, tokenId: string, now = Date.now(), ttlMs = TUNNEL_TICKET_TTL_MS): string | undefined {
  const payload = `${deploymentId}.${tokenId}.${now + ttlMs}`;
  const mac = key.tag(PURPOSE, payload);
  return mac === undefined ? undefined : `${TUNNEL_TICKET_PREFIX}${payload}.${mac}`;
}

/** Whether a bearer credential is a ticket (rather than a tunnel token). */
export function isTunnelTicket(credential: string): boolean {
  return credential.startsWith(TUNNEL_TICKET_PREFIX);
}

/** The ticket's claims when its MAC holds and it has not expired; otherwise why it is refused. */
export function verifyTunnelTicket(key: FabricKey, ticket: string, now = Date.now()): TunnelTicket | string {
  const m = TICKET.exec(ticket);
  if (!m) return 'malformed ticket';
  const [, deploymentId, tokenId, exp, mac] = m as unknown as [string, string, string, string, string];
  const want = key.tag(PURPOSE, `${deploymentId}.${tokenId}.${exp}`);
  if (want === undefined) return 'tickets are not accepted here (no TOKIOS_FABRIC_SECRET)';
  if (!timingSafeEqual(Buffer.from(want), Buffer.from(mac))) return 'bad ticket signature';
  const expiresAt = Number(exp);
  if (expiresAt <= now) return 'expired ticket';
  return { deploymentId, tokenId, expiresAt };
}
