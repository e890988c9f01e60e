import t from 'tap';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { TunnelSender } from '../src/tunnel-sender.js';

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
