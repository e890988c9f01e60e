import t from 'tap';
import {
  FrameKind, HEADER_BYTES, MAX_PAIR_HEARTBEAT_ENTRIES, ProtocolError, decodeFrame, decodePairHeartbeat, encodePairHeartbeats, type StreamBeat,
} from '../../src/protocol/index.js';

const beats = (n: number, from = 0): StreamBeat[] => Array.from({ length: n }, (_, i) => ({ rid: `ing_0a1b2c3d4e5f_${(from + i).toString(36)}-1`, published: (i * 7) % 1000 }));

t.test('a PairHeartbeat carries every (rid, published) entry unchanged, one message when it fits', async (t) => {
  const list = [...beats(3), { rid: 'x'.repeat(64), published: 0xffffffff }, { rid: 'A-_9', published: 0 }];
  const out = encodePairHeartbeats(list, 1024 * 1024);
  t.equal(out.length, 1);
  t.equal(out[0]![0], FrameKind.PairHeartbeat);
  t.equal(decodeFrame(out[0]!).id, list.length, 'the header id counts the entries (and decodeFrame accepts the kind)');
  t.same(decodePairHeartbeat(out[0]!), list);
  const empty = encodePairHeartbeats([], 1024);
  t.equal(empty.length, 1, 'nothing silent: one empty message (the round still goes)');
  t.same(decodePairHeartbeat(empty[0]!), [], 'an empty round decodes to no entries');
});

t.test('a long list is split over messages under the size and entry limits, each whole on its own', async (t) => {
  const list = beats(5_000);
  const max = 32 * 1024;
  const out = encodePairHeartbeats(list, max);
  t.ok(out.length > 1, `${out.length} messages`);
  for (const m of out) t.ok(m.length <= max, 'each under the limit');
  t.same(out.flatMap((m) => decodePairHeartbeat(m)), list, 'together they list every entry once, in order');

  const tiny = Array.from({ length: MAX_PAIR_HEARTBEAT_ENTRIES + 10 }, (_, i) => ({ rid: 'r', published: i }));
  const parts = encodePairHeartbeats(tiny, 64 * 1024 * 1024);
  t.same(parts.map((m) => decodeFrame(m).id), [MAX_PAIR_HEARTBEAT_ENTRIES, 10], 'no message over MAX_PAIR_HEARTBEAT_ENTRIES entries');
  t.throws(() => encodePairHeartbeats(list, 60), ProtocolError, 'a limit that cannot hold an entry is refused');
  t.throws(() => encodePairHeartbeats([{ rid: 'a.b', published: 1 }], 1024), ProtocolError, 'a rid that is no subject token is refused');
});

t.test('malformed PairHeartbeats are refused whole with ProtocolError', async (t) => {
  const good = encodePairHeartbeats(beats(2), 1024)[0]!;
  const withCount = (n: number): Buffer => {
    const b = Buffer.from(good);
    b.writeUInt32BE(n, 1);
    return b;
  };
  const cases: [string, Buffer][] = [
    ['shorter than a header', good.subarray(0, HEADER_BYTES - 1)],
    ['another kind', Buffer.concat([Buffer.from([FrameKind.Heartbeat]), good.subarray(1)])],
    ['a count over the entries', withCount(3)],
    ['a count under the entries (bytes left over)', withCount(1)],
    ['a count over the limit', withCount(MAX_PAIR_HEARTBEAT_ENTRIES + 1)],
    ['a count the bytes cannot hold', withCount(1_000)],
    ['cut in an entry', good.subarray(0, good.length - 2)],
  ];
  const meta = Buffer.from(good);
  meta.writeUInt32BE(1, 5);
  cases.push(['metadata', meta]);
  const zeroRid = Buffer.from(good);
  zeroRid[HEADER_BYTES] = 0;
  cases.push(['an empty rid', zeroRid]);
  const longRid = Buffer.from(good);
  longRid[HEADER_BYTES] = 65;
  cases.push(['a rid over 64 bytes', longRid]);
  for (const bad of ['.', '>', ' ', '\u00e9', '\n']) {
    const b = Buffer.from(good);
    b.write(bad, HEADER_BYTES + 2, 'latin1');
    cases.push([`a rid with ${JSON.stringify(bad)}`, b]);
  }
  for (const [what, buf] of cases) t.throws(() => decodePairHeartbeat(buf), ProtocolError, what);
});
