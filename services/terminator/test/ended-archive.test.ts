import t, { type Test } from 'tap';
import { FrameKind, encodeBatch, encodeFrame } from '@tokios/shared/protocol';
import { ReplayLog } from '../src/replay.js';
import { EndedStream } from '../src/ended-stream.js';
import { EndedArchive } from '../src/ended-archive.js';

const ack = encodeFrame(FrameKind.Ack, 0, { terminatorId: 'trm_1', connectorId: 'con_1' });

function logOf(text: string): ReplayLog {
  const log = new ReplayLog();
  log.head(encodeFrame(FrameKind.Head, 0, { status: 200, contentType: 'text/plain' }));
  log.dataFrame(0, encodeFrame(FrameKind.Data, 0, undefined, Buffer.from(text)));
  log.final(encodeFrame(FrameKind.End, 0, { frames: 1 }));
  return log;
}

/** The stream as it should come back (packed by ReplayLog.pack). */
function ended(rid: string, at: number, text = 'hello'): EndedStream {
  return new EndedStream(rid, `tokios.in.ing_1.${rid}`, `tokios.term.trm_1.${rid}`, logOf(text).pack(ack), at);
}

/** Archives the stream as a relay does (its log's parts, written straight into the archive). */
function keep(archive: EndedArchive, rid: string, at: number, text = 'hello'): void {
  archive.add(rid, `tokios.in.ing_1.${rid}`, `tokios.term.trm_1.${rid}`, at, logOf(text).parts(ack));
}

const same = (t: Test, got: EndedStream | undefined, want: EndedStream): void => {
  t.ok(got, `${want.rid} is kept`);
  t.same([got?.rid, got?.reply, got?.control, got?.at], [want.rid, want.reply, want.control, want.at]);
  t.same({ ...got?.packed, frames: Buffer.from(got?.packed.frames ?? []) }, { ...want.packed, frames: Buffer.from(want.packed.frames) }, 'the packed log comes back byte for byte');
};

t.test('a stream comes back as it was archived; an unknown rid is not there', async (t) => {
  const archive = new EndedArchive();
  const a = ended('r1', 1000);
  keep(archive, 'r1', 1000);
  same(t, archive.get('r1'), a);
  t.equal(archive.get('r2'), undefined);
  t.equal(archive.size, 1);
});

t.test('pruning forgets what ended before the window, across chunks, oldest first', async (t) => {
  const archive = new EndedArchive();
  const big = 'x'.repeat(100_000); // a few records per chunk, and one larger than a chunk
  for (let i = 0; i < 20; i++) keep(archive, `r${i}`, 1000 + i, big);
  keep(archive, 'huge', 1020, 'y'.repeat(700_000));
  t.equal(archive.size, 21);
  same(t, archive.get('r3'), ended('r3', 1003, big));
  same(t, archive.get('huge'), ended('huge', 1020, 'y'.repeat(700_000)));
  archive.prune(1010);
  t.equal(archive.size, 11, 'the ten oldest are gone');
  t.equal(archive.get('r9'), undefined);
  same(t, archive.get('r10'), ended('r10', 1010, big));
  t.same([...archive.all()].map((e) => e.rid), [...Array.from({ length: 10 }, (_, i) => `r${i + 10}`), 'huge'], 'all(), oldest first');
  archive.prune(2000);
  t.equal(archive.size, 0);
  keep(archive, 'again', 3000);
  same(t, archive.get('again'), ended('again', 3000));
});

t.test('a rid archived again is the newer record, and moves to the end', async (t) => {
  const archive = new EndedArchive();
  keep(archive, 'r1', 1000, 'old');
  keep(archive, 'r2', 1001);
  keep(archive, 'r1', 1002, 'new');
  same(t, archive.get('r1'), ended('r1', 1002, 'new'));
  archive.prune(1002);
  t.same([...archive.all()].map((e) => e.rid), ['r1'], 'r2 went first: r1 is younger now');
});

t.test('after the clock stepped back, a record whose chunk went is forgotten, never read from another chunk', async (t) => {
  const archive = new EndedArchive();
  const big = 'x'.repeat(200_000);
  keep(archive, 'late', 5000, big);
  keep(archive, 'early', 1000, big);
  keep(archive, 'next', 1001, big); // a new chunk
  archive.prune(4000);
  t.ok(archive.get('late'), 'the record that ended late stays');
  for (const e of archive.all()) t.ok(['late', 'early', 'next'].includes(e.rid));
});

t.test('a control subject that is the archive prefix and the rid is not written out, and comes back the same', async (t) => {
  const prefixed = new EndedArchive('tokios.term.trm_1.');
  const other = new EndedArchive('tokios.term.trm_2.');
  keep(prefixed, 'r1', 1000);
  keep(other, 'r1', 1000);
  same(t, prefixed.get('r1'), ended('r1', 1000));
  same(t, other.get('r1'), ended('r1', 1000));
});

t.test('asked for it, add returns the log it wrote: the Batch of its frames, byte for byte', async (t) => {
  const archive = new EndedArchive('tokios.term.trm_1.');
  const parts = logOf('hello').parts(ack);
  t.equal(archive.add('r1', 'tokios.in.ing_1.r1', 'tokios.term.trm_1.r1', 1000, parts), undefined, 'nothing unless asked');
  const batch = archive.add('r2', 'tokios.in.ing_1.r2', 'tokios.term.trm_1.r2', 1000, parts, true);
  t.same(Buffer.from(batch ?? []), encodeBatch(parts.frames));
  same(t, archive.get('r2'), ended('r2', 1000));
});

t.test('subjects are written a byte a character while ASCII, and any others as UTF-8 (they come back the same)', async (t) => {
  const archive = new EndedArchive('tokios.term.trm_1.');
  for (const reply of ['tokios.in.ing_1.r1', 'tokios.in.ing_é.r1', 'tokios.in.☃.r1', 'tokios.in.😀x.r1', 'é', '']) {
    archive.add('r1', reply, 'tokios.term.trm_1.r1', 1000, logOf('hi').parts(ack));
    t.equal(archive.get('r1')?.reply, reply, JSON.stringify(reply));
    archive.add('r1', reply, `own.☃.${reply}`, 1000, logOf('hi').parts(ack));
    t.same([archive.get('r1')?.reply, archive.get('r1')?.control], [reply, `own.☃.${reply}`]);
  }
});

t.test('many streams (rids sharing index buckets, across chunks): each found as its own until pruned', async (t) => {
  const archive = new EndedArchive('tokios.term.trm_1.');
  const n = 40_000; // more than the index has buckets: chains of several records
  for (let i = 0; i < n; i++) keep(archive, `rid-${i}`, 1000 + Math.floor(i / 10));
  keep(archive, 'rid-7', 5000, 'again');
  let found = 0;
  for (let i = 0; i < n; i++) if (archive.get(`rid-${i}`)?.rid === `rid-${i}`) found++;
  t.equal(found, n, 'every rid finds its record');
  t.equal(archive.get('rid-7')?.at, 5000, 'the newer record of a rid archived again');
  archive.prune(1000 + n / 20);
  let kept = 0;
  for (let i = 0; i < n; i++) if (archive.get(`rid-${i}`)) kept++;
  t.equal(kept, n / 2 + 1, 'the older half is gone (rid-7 was archived again since)');
  t.equal(archive.size, n / 2 + 1);
  t.equal(archive.get(`rid-${n / 2 - 1}`), undefined);
  same(t, archive.get(`rid-${n / 2}`), new EndedStream(`rid-${n / 2}`, `tokios.in.ing_1.rid-${n / 2}`, `tokios.term.trm_1.rid-${n / 2}`, logOf('hello').pack(ack), 1000 + n / 20));
});
