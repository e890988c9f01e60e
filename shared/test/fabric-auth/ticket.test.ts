import t from 'tap';
import { FabricKey, TUNNEL_TICKET_TTL_MS, issueTunnelTicket, isTunnelTicket, verifyTunnelTicket } from '../../src/fabric-auth/index.js';

const key = new FabricKey('x'.repeat(40));

t.test('tunnel tickets: bound to deployment, token and expiry; signed with the fabric secret', async (t) => {
  const now = 1_800_000_000_000;
  const ticket = issueTunnelTicket(key, 'dep_1', 'tok_1', now)!;
  t.ok(isTunnelTicket(ticket));
  t.notOk(isTunnelTicket('tt-tokios-abc'));
  t.same(verifyTunnelTicket(key, ticket, now + 1000), { deploymentId: 'dep_1', tokenId: 'tok_1', expiresAt: now + TUNNEL_TICKET_TTL_MS });
  t.equal(verifyTunnelTicket(key, ticket, now + TUNNEL_TICKET_TTL_MS), 'expired ticket');
  t.equal(verifyTunnelTicket(new FabricKey('y'.repeat(40)), ticket, now), 'bad ticket signature', 'another secret');
  const [, , tok, exp, mac] = ticket.split('.');
  t.equal(verifyTunnelTicket(key, `tkt1.dep_2.${tok}.${exp}.${mac}`, now), 'bad ticket signature', 'another deployment');
  t.equal(verifyTunnelTicket(key, `tkt1.dep_1.${tok}.${Number(exp) + 60_000}.${mac}`, now), 'bad ticket signature', 'a later expiry');
  t.equal(verifyTunnelTicket(key, 'tkt1.nope', now), 'malformed ticket');
  t.equal(issueTunnelTicket(new FabricKey(undefined), 'dep_1', 'tok_1', now), undefined, 'no secret: no tickets');
  t.match(verifyTunnelTicket(new FabricKey(undefined), ticket, now), /not accepted/);
});
