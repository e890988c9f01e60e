import t from 'tap';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { FrameKind, encodeFrame, splitTunnelBatch } from '@tokios/shared/protocol';
import { StreamOutbox, TunnelSender } from '../src/tunnel-sender.js';

t.test('frames sent in one turn arrive as one binary message each, in order, byte for byte; the sent buffers stay as they were', async (t) => {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => server.once('listening', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const received: { data: Buffer; binary: boolean }[] = [];
  const frames = [Buffer.from('head'), Buffer.alloc(70_000, 7), Buffer.alloc(0), Buffer.from('x'.repeat(200))];
  const all = new Promise<void>((resolve) =>
    server.on('connection', (peer) =>
      peer.on('message', (data, binary) => {
        received.push({ data: data as Buffer, binary });
        if (received.length === frames.length) resolve();
      }),
    ),
  );
  const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, { perMessageDeflate: false });
  t.teardown(() => ws.terminate());
  await new Promise<void>((r) => ws.once('open', () => r()));
  const copies = frames.map((f) => Buffer.from(f));
  const sender = new TunnelSender();
  for (const f of frames) sender.send(ws, f);
  await all;
  t.same(received.map((m) => m.binary), frames.map(() => true), 'every message is binary');
  t.same(received.map((m) => m.data.toString('hex')), copies.map((c) => c.toString('hex')), 'each frame arrives whole and unmasked correctly');
  t.same(frames.map((f) => f.toString('hex')), copies.map((c) => c.toString('hex')), 'masking left the caller\'s buffers alone');
});

t.test('to a terminator that reads batches, a stream\'s frames of one turn are one message; to an older one, plain frames', async (t) => {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => server.once('listening', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const received: Buffer[] = [];
  let wake: (() => void) | undefined;
  server.on('connection', (peer) => peer.on('message', (data) => {
    received.push(data as Buffer);
    wake?.();
  }));
  const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, { perMessageDeflate: false });
  t.teardown(() => ws.terminate());
  await new Promise<void>((r) => ws.once('open', () => r()));
  const count = (n: number): Promise<void> => new Promise((r) => {
    wake = () => received.length >= n && r();
    wake();
  });
  const answer = (sid: number): Buffer[] => [
    encodeFrame(FrameKind.Head, sid, { status: 200, contentType: 'application/json' }),
    encodeFrame(FrameKind.Data, sid, undefined, Buffer.from('{"a":1}')),
    encodeFrame(FrameKind.End, sid, { frames: 1 }),
  ];

  const sender = new TunnelSender();
  sender.configure(true, 1024 * 1024);
  const a = new StreamOutbox(1);
  const b = new StreamOutbox(2);
  const [ha, da, ea] = answer(1);
  const [hb, db, eb] = answer(2);
  sender.sendStream(ws, a, ha!);
  sender.sendStream(ws, b, hb!);
  sender.send(ws, encodeFrame(FrameKind.Ping, 5));
  sender.sendStream(ws, a, da!);
  sender.sendStream(ws, a, ea!);
  sender.sendStream(ws, b, db!);
  sender.sendStream(ws, b, eb!);
  t.ok(sender.pendingBytes > 0, 'the turn\'s frames count as buffered until they leave');
  await count(3);
  t.same(received.map((m) => [m[0], m.readUInt32BE(1)]), [[FrameKind.Batch, 1], [FrameKind.Batch, 2], [FrameKind.Ping, 5]], 'one Batch per stream at its first frame\'s place; the Ping after both');
  t.same(splitTunnelBatch(received[0]!).map((f) => f.toString('hex')), [ha, da, ea].map((f) => f!.toString('hex')), 'the frames unchanged, in order');

  received.length = 0;
  const small = new TunnelSender();
  small.configure(true, 64);
  const c = new StreamOutbox(3);
  for (const f of answer(3)) small.sendStream(ws, c, f);
  await count(2);
  t.ok(received.every((m) => m.length <= 64 || m[0] !== FrameKind.Batch), 'no Batch over the terminator\'s limit');

  received.length = 0;
  const plain = new TunnelSender();
  plain.configure(false, 1024 * 1024);
  const d = new StreamOutbox(4);
  for (const f of answer(4)) plain.sendStream(ws, d, f);
  await count(3);
  t.same(received.map((m) => m[0]), [FrameKind.Head, FrameKind.Data, FrameKind.End], 'a terminator that did not announce batches gets plain frames');
});
