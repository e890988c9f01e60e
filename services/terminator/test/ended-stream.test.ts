import t from 'tap';
import { FrameKind, decodeFrame, encodeFrame } from '@tokios/shared/protocol';
import { silentLogger } from '@tokios/shared/log';
import { ReplayLog } from '../src/replay.js';
import { EndedStream } from '../src/ended-stream.js';

const data = (seq: number, text: string): Buffer => encodeFrame(FrameKind.Data, seq, undefined, Buffer.from(text));
const ack = encodeFrame(FrameKind.Ack, 0, { terminatorId: 'trm_1', connectorId: 'con_1' });

function finishedLog(): ReplayLog {
  const log = new ReplayLog();
  log.head(encodeFrame(FrameKind.Head, 0, { status: 200, contentType: 'text/plain' }));
  ['a', 'b', 'c'].forEach((text, seq) => log.dataFrame(seq, data(seq, text)));
  log.final(encodeFrame(FrameKind.End, 0, { frames: 3 }));
  return log;
}

const shown = (frames: Uint8Array[] | undefined): string[] | undefined =>
  frames?.map((f) => {
    const d = decodeFrame(f);
    return `${d.kind}:${d.id}:${d.payload.toString()}`;
  });

t.test('a packed log answers every Resume as the log it was packed from', async (t) => {
  const log = finishedLog();
  const { ack: back, log: again } = ReplayLog.unpack(log.pack(ack));
  t.same(Buffer.from(back!), ack, 'the Ack comes back as published');
  for (const have of [{ head: false, next: 0 }, { head: true, next: 1 }, { head: true, next: 3 }, { head: false, next: 2 }]) {
    t.same(shown(again.missing(have)), shown(log.missing(have)), `have ${JSON.stringify(have)}`);
  }
  t.equal(again.published, log.published);
  t.equal(again.finished, true);
});

t.test('a packed log that dropped its oldest Data frames still refuses a Resume from before them', async (t) => {
  const log = new ReplayLog();
  const big = 'x'.repeat(200 * 1024);
  for (let seq = 0; seq < 3; seq++) log.dataFrame(seq, data(seq, big));
  const { ack: none, log: again } = ReplayLog.unpack(log.pack(undefined));
  t.equal(none, undefined, 'no Ack packed, none unpacked');
  t.equal(again.missing({ head: true, next: 0 }), undefined, 'the dropped frames are not made up');
  t.same(shown(again.missing({ head: true, next: 2 })), shown(log.missing({ head: true, next: 2 })), 'the kept one is there');
  t.equal(again.finished, false);
});

t.test('an ended stream sends the Ack and its final frame after a reconnect, or a Heartbeat when it had none', async (t) => {
  const sent: { reply: string; control: string; frame: string }[] = [];
  const publish = (reply: string, control: string, frame: Uint8Array): void => {
    sent.push({ reply, control, frame: shown([frame])![0]! });
  };
  new EndedStream('r1', 'tokios.in.ing.r1', 'tokios.term.trm.r1', finishedLog().pack(ack), 0).reconnected(publish);
  t.same(sent.map((s) => s.frame), [`${FrameKind.Ack}:0:`, `${FrameKind.End}:0:`]);
  t.ok(sent.every((s) => s.reply === 'tokios.in.ing.r1' && s.control === 'tokios.term.trm.r1'), 'to the inbox, with the control subject as reply');

  sent.length = 0;
  const cut = new ReplayLog();
  cut.head(encodeFrame(FrameKind.Head, 0, { status: 200, contentType: 'text/plain' }));
  new EndedStream('r2', 'tokios.in.ing.r2', 'tokios.term.trm.r2', cut.pack(ack), 0).reconnected(publish);
  t.same(sent.map((s) => s.frame), [`${FrameKind.Ack}:0:`, `${FrameKind.Heartbeat}:1:`], 'a stream cancelled without a final frame: a Heartbeat counting the Head');

  sent.length = 0;
  const ended = new EndedStream('r3', 'tokios.in.ing.r3', 'tokios.term.trm.r3', finishedLog().pack(ack), 0);
  ended.resume({ head: true, next: 2 }, publish, silentLogger());
  t.same(sent.map((s) => s.frame), [`${FrameKind.Data}:2:c`, `${FrameKind.End}:0:`], 'a Resume after the end gets what follows');
});
