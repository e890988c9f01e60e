import t from 'tap';
import { FrameKind, decodeFrame } from '@tokios/shared/protocol';
import { AckFrames } from '../src/ack-frames.js';

t.test('each connector has one encoded Ack, naming this terminator and that connector', async (t) => {
  const acks = new AckFrames('trm_1');
  const a = acks.get('con_a');
  const f = decodeFrame(a);
  t.equal(f.kind, FrameKind.Ack);
  t.equal(f.id, 0);
  t.same(f.meta, { terminatorId: 'trm_1', connectorId: 'con_a' });
  t.equal(acks.get('con_a'), a, 'encoded once, the same bytes every time');
  t.same(decodeFrame(acks.get('con_b')).meta, { terminatorId: 'trm_1', connectorId: 'con_b' }, 'another connector, its own Ack');
});

t.test('the cache is bounded: past its size it starts over, and still answers right', async (t) => {
  const acks = new AckFrames('trm_1');
  const first = acks.get('con_0');
  for (let i = 1; i <= 1024; i++) acks.get(`con_${i}`);
  const again = acks.get('con_0');
  t.not(again, first, 'encoded again after the cache started over');
  t.ok(again.equals(first), 'to the same bytes');
});
