import t from 'tap';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { FrameKind, encodeBatch, encodeDataFrame, encodeWithJson, metaBytes } from '@tokios/shared/protocol';
import { OutFrame, encodeFrameOut, frameBytes } from '../src/out-frame.js';
import { StreamOutbox, TunnelSender } from '../src/tunnel-sender.js';

// The bytes a frame written in place leaves with must be the ones the frame encoders write: the terminator reads both.
const head = '{"status":200,"contentType":"application/json","note":"é ✓ 𝄞"}';
const end = '{"usage":{"input":9,"output":1}}';
const parts = [Buffer.from('{"id":"a",'), new Uint8Array(Buffer.from('"x":"ü"}')).subarray(0), Buffer.alloc(0)];
const total = parts.reduce((n, p) => n + p.byteLength, 0);
const written = (): OutFrame[] => [
  OutFrame.meta(FrameKind.Head, 7, head, metaBytes(FrameKind.Head, head)),
  OutFrame.data(7, parts, total),
  OutFrame.meta(FrameKind.End, 7, end, metaBytes(FrameKind.End, end)),
];
const encoded = (): Buffer[] => [
  encodeWithJson(FrameKind.Head, 7, head, metaBytes(FrameKind.Head, head)),
  encodeDataFrame(7, parts, total),
  encodeWithJson(FrameKind.End, 7, end, metaBytes(FrameKind.End, end)),
];

t.test('a frame written in place has the bytes and size the encoders give it', async (t) => {
  const ours = written();
  const theirs = encoded();
  for (const [i, f] of ours.entries()) {
    t.equal(frameBytes(f), theirs[i]!.length, `frame ${i}: size`);
    t.equal(encodeFrameOut(f).toString('hex'), theirs[i]!.toString('hex'), `frame ${i}: bytes`);
    const big = Buffer.alloc(f.bytes + 10, 0xee);
    t.equal(f.writeTo(big, 5), 5 + f.bytes, `frame ${i}: offset after it`);
    t.equal(big.subarray(5, 5 + f.bytes).toString('hex'), theirs[i]!.toString('hex'), `frame ${i}: bytes at an offset`);
    t.ok(big.subarray(0, 5).every((b) => b === 0xee) && big.subarray(5 + f.bytes).every((b) => b === 0xee), `frame ${i}: nothing written around it`);
  }
  t.same(encodeFrameOut(theirs[0]!), theirs[0], 'an encoded frame is sent as it is');
});

t.test('a quick answer written in place leaves as the Batch encodeBatch makes of the encoded frames', async (t) => {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => server.once('listening', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const got = new Promise<Buffer>((resolve) => server.on('connection', (peer) => peer.once('message', (data) => resolve(data as Buffer))));
  const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, { perMessageDeflate: false });
  t.teardown(() => ws.terminate());
  await new Promise<void>((r) => ws.once('open', () => r()));
  const sender = new TunnelSender();
  sender.configure(true, 1 << 20);
  const out = new StreamOutbox(7);
  for (const f of written()) sender.sendStream(ws, out, f);
  const theirs = encoded();
  t.equal((await got).toString('hex'), encodeBatch(theirs, theirs.reduce((n, f) => n + f.length, 0), 7).toString('hex'), 'one message, the same bytes');
});
