import t from 'tap';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { headers as natsHeaders } from 'nats';
import { FabricGate, FabricKey, MAX_SKEW_MS, SIGNATURE_HEADER } from '../../src/fabric-auth/index.js';

const SECRET = 'k'.repeat(40);
const SUBJECT = 'tokios.ctl.token_revoked';
const body = Buffer.from('{"tokenId":"tok_1","deploymentId":"dep_1"}');

/** A message as a receiver sees it. */
function msg(subject: string, data: Uint8Array, sig?: string) {
  const h = natsHeaders();
  if (sig !== undefined) h.set(SIGNATURE_HEADER, sig);
  return { subject, data, headers: sig === undefined ? undefined : h };
}

function captureLog(): { lines: string[]; log: Logger } {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) })) as unknown as Logger;
  return { lines, log };
}

t.test('a signature binds subject, time and body', async (t) => {
  const key = new FabricKey(SECRET);
  const now = 1_800_000_000_000;
  const sig = key.signature(SUBJECT, body, now)!;
  t.match(sig, /^v1\.1800000000000\.[0-9a-f]{20}\.[A-Za-z0-9_-]{43}$/, 'v1.<ms>.<nonce>.<mac>');
  t.equal(key.verify(SUBJECT, body, sig, now + 1_000), 'ok');
  t.equal(key.verify(SUBJECT, body, undefined, now), 'unsigned');
  t.equal(key.verify(SUBJECT, Buffer.from('{"tokenId":"tok_2","deploymentId":"dep_1"}'), sig, now), 'bad_signature', 'other body');
  t.equal(key.verify('tokios.ctl.key_revoked', body, sig, now), 'bad_signature', 'other subject');
  t.equal(new FabricKey('x'.repeat(40)).verify(SUBJECT, body, sig, now), 'bad_signature', 'other key');
  t.equal(key.verify(SUBJECT, body, sig.replace('v1.1800000000000', 'v1.1800000000001'), now), 'bad_signature', 'other time');
  t.equal(key.verify(SUBJECT, body, 'garbage', now), 'bad_signature');
  t.equal(key.verify(SUBJECT, body, sig, now + MAX_SKEW_MS + 1), 'stale', 'too old');
  t.equal(key.verify(SUBJECT, body, sig, now - MAX_SKEW_MS - 1), 'stale', 'too far in the future');
  t.not(key.signature(SUBJECT, body, now), sig, 'two signatures of the same message differ (nonce)');
});

t.test('without a secret nothing is signed and everything accepted', async (t) => {
  const key = new FabricKey(undefined);
  t.equal(key.enabled, false);
  t.equal(key.headers(SUBJECT, body), undefined);
  t.ok(new FabricGate(key, 'control events', pino({ level: 'silent' })).accept(msg(SUBJECT, body)));
});

t.test('a gate drops unsigned, forged, stale and replayed messages, counting them, logging one line per interval', async (t) => {
  let now = 1_800_000_000_000;
  const key = new FabricKey(SECRET);
  const { lines, log } = captureLog();
  const gate = new FabricGate(key, 'control events', log, () => now);
  const good = key.signature(SUBJECT, body, now)!;
  t.ok(gate.accept(msg(SUBJECT, body, good)), 'a signed message');
  t.notOk(gate.accept(msg(SUBJECT, body, good)), 'the same message again: replayed');
  t.notOk(gate.accept(msg(SUBJECT, body)), 'unsigned');
  t.notOk(gate.accept(msg(SUBJECT, body, new FabricKey('x'.repeat(40)).signature(SUBJECT, body, now))), 'wrong key');
  t.notOk(gate.accept(msg(SUBJECT, body, key.signature(SUBJECT, body, now - 60_000))), 'stale');
  t.same(gate.dropped, { unsigned: 1, bad_signature: 1, stale: 1, replayed: 1 });
  t.equal(lines.length, 1, 'one log line for four drops within the interval');
  t.notMatch(lines[0]!, /tok_1|dep_1/, 'no message content in the log');
  t.match(JSON.parse(lines[0]!), { what: 'control events', reason: 'replayed', dropped: { replayed: 1 } });
  now += 10_000;
  t.notOk(gate.accept(msg(SUBJECT, body)));
  t.equal(lines.length, 2, 'the next interval logs again');
  t.match(JSON.parse(lines[1]!), { dropped: { unsigned: 2, bad_signature: 1, stale: 1, replayed: 1 } });
  // Still remembered after the replay window rotates once (at least 2 × MAX_SKEW_MS).
  now += 2 * MAX_SKEW_MS;
  const fresh = key.signature(SUBJECT, body, now)!;
  t.ok(gate.accept(msg(SUBJECT, body, fresh)));
  now += 1_000;
  t.notOk(gate.accept(msg(SUBJECT, body, fresh)), 'replay after a rotation');
});
