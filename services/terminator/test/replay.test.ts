import t, { type Test } from 'tap';
import { FrameKind, encodeFrame, type ResumeMeta } from '@tokios/shared/protocol';
import { REPLAY_BYTES, ReplayLog } from '../src/replay.js';

const data = (seq: number, bytes: number, fill: number): Buffer => encodeFrame(FrameKind.Data, seq, undefined, Buffer.alloc(bytes, fill));
const head = (status: number): Buffer => encodeFrame(FrameKind.Head, 0, { status, contentType: 'text/plain' });
const hex = (frames: Uint8Array[] | undefined): string[] | undefined => frames?.map((f) => Buffer.from(f).toString('hex'));

/** Every Resume an ingress could send about a stream that published `sent` Data frames. */
function asks(sent: number): ResumeMeta[] {
  const out: ResumeMeta[] = [];
  // Every one for a short stream; for a long one, around its window's edge and its end.
  const step = sent > 100 ? 97 : 1;
  for (let next = 0; next <= sent + 1; next += step) out.push({ head: false, next }, { head: true, next });
  for (let next = Math.max(0, sent - 3); next <= sent + 1; next++) out.push({ head: false, next }, { head: true, next });
  return out;
}

/** The settled log answers exactly as one that never settled (the log as it was before settle() existed). */
function same(t: Test, settled: ReplayLog, plain: ReplayLog, sent: number, what: string): void {
  for (const have of asks(sent)) t.same(hex(settled.missing(have)), hex(plain.missing(have)), `${what}: missing(${JSON.stringify(have)})`);
  t.equal(settled.published, plain.published, `${what}: published`);
  t.equal(settled.finished, plain.finished, `${what}: finished`);
  const a = settled.parts(undefined);
  const b = plain.parts(undefined);
  t.same({ ...a, frames: hex([...a.frames]) }, { ...b, frames: hex([...b.frames]) }, `${what}: parts`);
  t.same(settled.pack(undefined), plain.pack(undefined), `${what}: pack`);
}

t.test('settling after every turn changes nothing a Resume, a reconnect or the archive sees', async (t) => {
  // Frame sizes from tokens to ones that push the oldest out of the window, settled every 1-3 frames.
  const sizes = [10, 300, 5, 70_000, 1, 120_000, 40, 200_000, 3, 3, 3, 90_000, 250_000, 7, 1_000, 0, 260_000, 12];
  const settled = new ReplayLog();
  const plain = new ReplayLog();
  settled.head(head(200));
  plain.head(head(200));
  same(t, settled, plain, 0, 'head only');
  settled.settle();
  same(t, settled, plain, 0, 'head settled');
  let seq = 0;
  for (const [i, n] of sizes.entries()) {
    const f = data(seq, n, i);
    settled.dataFrame(seq, Buffer.from(f));
    plain.dataFrame(seq, f);
    seq++;
    if (i % 3 !== 1) settled.settle();
    same(t, settled, plain, seq, `after frame ${i} (${n} bytes)`);
  }
  const end = encodeFrame(FrameKind.End, 0, { frames: seq });
  settled.final(end);
  plain.final(end);
  same(t, settled, plain, seq, 'finished');
});

t.test('settled frames are copies: the tunnel messages they came in may be reused', async (t) => {
  const log = new ReplayLog();
  const message = Buffer.concat([head(200), data(0, 50, 1), data(1, 50, 2)]);
  const h = message.subarray(0, head(200).length);
  const d0 = message.subarray(h.length, h.length + data(0, 50, 1).length);
  const d1 = message.subarray(h.length + d0.length);
  log.head(h);
  log.dataFrame(0, d0);
  log.dataFrame(1, d1);
  const before = hex(log.missing({ head: false, next: 0 }));
  log.settle();
  message.fill(0xee);
  t.same(hex(log.missing({ head: false, next: 0 })), before, 'Head and Data frames as they were published');
  log.dataFrame(2, data(2, 10, 3));
  log.settle();
  t.same(hex(log.missing({ head: true, next: 1 })), hex([data(1, 50, 2), data(2, 10, 3)]), 'appended after the settled ones');
});

t.test('a slow stream keeps one buffer: many tokens, the window, a Head that comes after Data', async (t) => {
  const settled = new ReplayLog();
  const plain = new ReplayLog();
  let seq = 0;
  // More than twice the window in small frames: the live part is moved to the front in place, never lost.
  for (; seq < 3_000; seq++) {
    const f = data(seq, 200 + (seq % 50), seq % 256);
    settled.dataFrame(seq, f);
    plain.dataFrame(seq, f);
    settled.settle();
    if (seq === 10) {
      settled.head(head(201));
      plain.head(head(201));
    }
  }
  t.ok(plain.parts(undefined).bytes <= REPLAY_BYTES + 4 * 3_000 + 1_000, 'the window holds');
  same(t, settled, plain, seq, 'after 3,000 tokens');
  t.equal(settled.missing({ head: true, next: 0 }), undefined, 'the oldest frames are gone, not made up');
});
