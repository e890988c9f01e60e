import t from 'tap';
import { FrameKind, PAUSE_LEASE_MS, PAUSE_RENEW_MS, decodeFrame } from '@tokios/shared/protocol';
import { PauseLease } from '../src/pause-lease.js';

t.test('a pause is a lease renewed while it lasts; after a reconnect the current state is sent again', (t) => {
  const sent: string[] = [];
  const lease = new PauseLease((frame) => {
    const f = decodeFrame(frame);
    sent.push(f.kind === FrameKind.Pause ? `pause ${f.meta.ms}` : f.kind === FrameKind.Unpause ? 'unpause' : `other ${f.kind}`);
  });
  lease.tick(0);
  lease.reconnected(0);
  t.same(sent, [], 'nothing while the caller reads');

  lease.pause(1_000);
  lease.pause(1_001);
  t.same(sent, [`pause ${PAUSE_LEASE_MS}`], 'one Pause with the lease');
  lease.tick(1_000 + PAUSE_RENEW_MS - 1);
  t.equal(sent.length, 1, 'not renewed early');
  lease.tick(1_000 + PAUSE_RENEW_MS);
  t.equal(sent.at(-1), `pause ${PAUSE_LEASE_MS}`, 'renewed when due (a lost renewal is followed by the next)');
  t.ok(PAUSE_RENEW_MS * 3 < PAUSE_LEASE_MS, 'several renewals fit in one lease');
  lease.reconnected(1_500);
  t.equal(sent.at(-1), `pause ${PAUSE_LEASE_MS}`, 'a reconnect sends the Pause again');

  lease.unpause(2_000);
  t.equal(sent.at(-1), 'unpause');
  const n = sent.length;
  lease.tick(10_000);
  t.equal(sent.length, n, 'no renewals after the Unpause');
  lease.reconnected(2_000 + PAUSE_LEASE_MS - 1);
  t.equal(sent.at(-1), 'unpause', 'a reconnect within a lease of the Unpause sends it again (it may have been lost)');
  const m = sent.length;
  lease.reconnected(2_000 + PAUSE_LEASE_MS + 1);
  t.equal(sent.length, m, 'later there is nothing to repeat: any lease has run out');
  t.end();
});
