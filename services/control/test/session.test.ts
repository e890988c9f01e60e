import t from 'tap';
import type { Tenant } from '@tokios/shared/store';
import { SessionSigner, readCookie, sessionCookie } from '../src/session.js';

const tenant = (hash = 'a'.repeat(64)): Tenant => ({ id: 'ten_1', name: 'x', createdAt: '2025-01-01T00:00:00.000Z', console: { prefix: 'tc-tokios-abcd', hash, createdAt: '2025-01-01T00:00:00.000Z' } });

t.test('a signed session verifies for its tenant and current console secret only', async (t) => {
  const s = SessionSigner.fromAdminToken('admin-token-for-tests-0123456789', 3600);
  const cookie = s.sign(tenant());
  const claim = s.claim(cookie)!;
  t.equal(claim.tenantId, 'ten_1');
  t.match(claim.sessionId, /^ses_[0-9a-f]{16}$/, 'each cookie names its session (for logout)');
  t.not(s.claim(s.sign(tenant()))!.sessionId, claim.sessionId, 'a new session id per login');
  t.ok(s.verify(claim, tenant()));
  t.notOk(s.verify(claim, tenant('b'.repeat(64))), 'rotated console secret');
  t.notOk(s.verify(claim, { ...tenant(), console: null }), 'no console secret');
  t.notOk(SessionSigner.fromAdminToken('another-admin-token-0123456789', 3600).verify(claim, tenant()), 'another key');
  t.notOk(s.claim(cookie, Date.now() + 3601_000), 'expired');
  t.notOk(s.claim('ten_1.ses_0123456789abcdef.99999999999.short'), 'malformed mac');
  t.notOk(s.claim('../etc.1.x'), 'malformed');
  t.notOk(s.claim(`ten_1.99999999999.${'a'.repeat(43)}`), 'a v1 cookie (no session id) is not a session');
  const forged = cookie.replace(/\.(\d+)\./, (_m, exp: string) => `.${Number(exp) + 1000}.`);
  t.notOk(s.verify(s.claim(forged)!, tenant()), 'extended expiry fails the MAC');
  const swapped = cookie.replace(/ses_[0-9a-f]{16}/, 'ses_0000000000000000');
  t.notOk(s.verify(s.claim(swapped)!, tenant()), 'another session id fails the MAC');
});

t.test('cookie helpers', async (t) => {
  t.equal(readCookie('a=1; tokios_session=abc.1.x; b=2', 'tokios_session'), 'abc.1.x');
  t.equal(readCookie(undefined, 'tokios_session'), undefined);
  t.equal(sessionCookie('v', 60, true), 'tokios_session=v; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure');
});
