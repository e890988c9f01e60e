import t from 'tap';
import { SubjectTokenError, TOKEN, isIngressInbox, isToken, subjects, tailToken, token, wildcard } from '../../src/subjects/index.js';

t.test('subjects are built from safe tokens only', async (t) => {
  t.equal(subjects.request('dep_1a'), 'tokios.req.dep_1a');
  t.equal(subjects.ingressInbox('ing_1', 'req_2-1'), 'tokios.in.ing_1.req_2-1');
  t.equal(subjects.terminator('trm_1', 'r1'), 'tokios.term.trm_1.r1');
  t.equal(wildcard(subjects.ingressInboxPrefix('ing_1')), 'tokios.in.ing_1.>');
  for (const bad of ['', 'a.b', 'a*', '>', 'a b', 'é', 'x'.repeat(65), 'a\n']) {
    t.throws(() => token(bad), SubjectTokenError, JSON.stringify(bad));
  }
});

t.test('tailToken extracts the request id and refuses anything else', async (t) => {
  const prefix = subjects.ingressInboxPrefix('ing_1');
  t.equal(tailToken('tokios.in.ing_1.req_5-2', prefix), 'req_5-2');
  t.equal(tailToken('tokios.in.ing_2.req_5', prefix), undefined);
  t.equal(tailToken('tokios.in.ing_1.a.b', prefix), undefined);
  t.equal(tailToken('tokios.in.ing_1.', prefix), undefined);
});

t.test('pair heartbeats go under the ingress inbox wildcard, never on a request inbox', async (t) => {
  const hb = subjects.pairHeartbeat('ing_1', 'trm_2');
  t.equal(hb, 'tokios.in.ing_1.hb.trm_2');
  t.equal(tailToken(hb, subjects.ingressInboxPrefix('ing_1')), undefined, 'no request id can be read from it');
  t.equal(tailToken(hb, subjects.pairHeartbeatPrefix('ing_1')), 'trm_2');
  t.equal(subjects.pairHeartbeatReply('trm_2', 'ing_1'), 'tokios.term.trm_2.hb.ing_1');
  t.equal(tailToken(subjects.pairHeartbeatReply('trm_2', 'ing_1'), subjects.terminatorPrefix('trm_2')), undefined, 'nor a stream from its reply');
  t.throws(() => subjects.pairHeartbeat('ing_1', 'a.b'), SubjectTokenError);
});

t.test('isIngressInbox agrees with the built inbox subject', async (t) => {
  t.ok(isIngressInbox(subjects.ingressInbox('ing_1', 'req_2-1'), 'ing_1', 'req_2-1'));
  for (const other of [
    'tokios.in.ing_1.req_2', 'tokios.in.ing_12.req_2-1', 'tokios.in.ing_.1req_2-1', 'tokios.in.ing_1xreq_2-1', 'tokios.in.ing_1.req_2-1.x',
    'tokios.im.ing_1.req_2-1', 'tokios.in.ing_1.hb.req_2-1', subjects.ingressInbox('ing_2', 'req_2-1'), subjects.ingressInbox('ing_1', 'req_2-2'),
  ]) t.notOk(isIngressInbox(other, 'ing_1', 'req_2-1'), other);
});

t.test('the token check by hand agrees with TOKEN', async (t) => {
  const samples = [
    '', 'a', 'Z', '0', '_', '-', 'ing_1_3mo-1', 'x'.repeat(64), 'x'.repeat(65), 'a.b', 'a b', 'a\n', '\na', 'é', 'ａ', 'a\u0000', '>', '*',
    // every ASCII character once, alone and around a valid token
    ...Array.from({ length: 128 }, (_, c) => String.fromCharCode(c)),
    ...Array.from({ length: 128 }, (_, c) => `id${String.fromCharCode(c)}x`),
  ];
  for (const s of samples) if (isToken(s) !== TOKEN.test(s)) t.fail(JSON.stringify(s));
  t.pass(`${samples.length} samples agree`);
});
