import t from 'tap';
import { FrameKind } from '../../src/protocol/kinds.js';
import { batchFrameBounds, encodeBatch, splitBatch } from '../../src/protocol/batch.js';
import {
  HEADER_BYTES, dataFrameId, dataFrameIdIn, dataPayload, dataPayloadIn, decodeFrame, decodeFrameIn, encodeFrame, encodeWithJson,
} from '../../src/protocol/frame.js';
import { endMetaJson, headMetaJson } from '../../src/protocol/meta-json.js';

/** What a call gives: its value, or the error's message. */
function outcome<T>(f: () => T): T | { threw: string } {
  try {
    return f();
  } catch (err) {
    return { threw: (err as Error).message };
  }
}

const text = (kind: FrameKind, id: number, json: string, payload?: Buffer): Buffer => encodeWithJson(kind, id, json, Buffer.byteLength(json), payload);

/** Frames as written, and hostile ones: bad kinds, lengths past the end, bad metadata, short headers. */
const frames: Buffer[] = [
  encodeFrame(FrameKind.Ack, 0, { terminatorId: 'ter_1', connectorId: 'con_1' }),
  text(FrameKind.Head, 0, headMetaJson({ status: 200, contentType: 'application/json' })),
  encodeFrame(FrameKind.Data, 0, undefined, Buffer.from('{"choices":[]}')),
  encodeFrame(FrameKind.Data, 7, undefined, Buffer.alloc(0)),
  text(FrameKind.End, 0, endMetaJson({ frames: 1, usage: { input_tokens: 1, output_tokens: 2 } })),
  text(FrameKind.End, 0, '{ "frames": 1 }'),
  text(FrameKind.Head, 0, '{"status":200,"contentType":"a"}', Buffer.from('trailing payload')),
  encodeFrame(FrameKind.Error, 0, { code: 'upstream_error', message: 'x' }),
  encodeFrame(FrameKind.Heartbeat, 3),
  text(FrameKind.Ack, 0, '{"terminatorId":"a.b","connectorId":"c"}'),
  text(FrameKind.End, 0, '{"frames":'),
  text(FrameKind.End, 0, '{"frames":-1}'),
  Buffer.from([0xee, 0, 0, 0, 0, 0, 0, 0, 0]),
  Buffer.from([FrameKind.Ack, 0, 0, 0, 0, 0, 0, 0, 200]),
  Buffer.from([FrameKind.Ack, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
  Buffer.from([FrameKind.Data, 0, 0, 0, 1, 0, 0, 0, 1, 0x7b]),
  Buffer.from([FrameKind.Ack, 0, 0]),
  Buffer.alloc(0),
];

t.test('a frame decoded in place, anywhere in a larger buffer, is what decodeFrame makes of its own buffer', async (t) => {
  for (const f of frames) {
    for (const [before, after] of [[0, 0], [5, 0], [0, 9], [13, 4]] as const) {
      const big = Buffer.concat([Buffer.alloc(before, 0x7b), f, Buffer.alloc(after, 0x7d)]);
      const start = before;
      const end = before + f.length;
      const inPlace = outcome(() => decodeFrameIn(big, start, end));
      t.strictSame(inPlace, outcome(() => decodeFrame(Buffer.from(f))), `kind ${f[0]}, ${f.length} bytes at ${start}`);
      t.strictSame(outcome(() => dataFrameIdIn(big, start, end)), outcome(() => dataFrameId(Buffer.from(f))), 'the same Data id or refusal');
      if (f.length >= HEADER_BYTES) t.strictSame(dataPayloadIn(big, start, end), dataPayload(Buffer.from(f)), 'the same Data payload');
    }
  }
});

t.test('batchFrameBounds checks what splitBatch checks, and bounds the same frames', async (t) => {
  const good = encodeBatch(frames.slice(0, 5));
  const samples: Buffer[] = [good, encodeBatch(frames.slice(0, 2), undefined, 9)];
  // every cut of a good batch, and its entry lengths bent
  for (let i = 0; i <= good.length; i++) samples.push(good.subarray(0, i));
  for (const off of [HEADER_BYTES, HEADER_BYTES + 3]) {
    for (const v of [0, 1, 8, 9, 0xff, 0xffff]) {
      const bent = Buffer.from(good);
      bent[off] = v;
      samples.push(bent);
    }
  }
  const nested = Buffer.from(good);
  nested[HEADER_BYTES + 4] = FrameKind.Batch;
  samples.push(nested, Buffer.from([FrameKind.Batch, 0, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([FrameKind.Batch, 0, 0, 0, 0, 0, 0, 0, 1, 0]));
  for (const b of samples) {
    const viaViews = outcome(() => splitBatch(b).map((f) => Buffer.from(f).toString('hex')));
    const viaBounds = outcome(() => {
      const bounds = batchFrameBounds(b);
      const out: string[] = [];
      for (let i = 0; i < bounds.length; i += 2) out.push(b.subarray(bounds[i], bounds[i + 1]).toString('hex'));
      return out;
    });
    t.strictSame(viaBounds, viaViews, `${b.length}-byte message`);
  }
});
