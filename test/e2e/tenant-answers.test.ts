// Issue 8 finding 5: answers are bounded. The ingress used to keep every part of a whole answer and ignore what a
// caller that stopped reading left unsent (96 MB streamed grew its RSS by 140 MiB). A raw connector sends more than
// TOKIOS_MAX_ANSWER_BYTES (502, generation cancelled), and streams to a caller that never reads (cancelled past
// TOKIOS_MAX_UNSENT_ANSWER_BYTES).
import t from 'tap';
import { connect as netConnect } from 'node:net';
import { FrameKind, encodeFrame, type Frame } from '@tokios/shared/protocol';
import { ScriptedConnector, TestFabric } from '../support/index.js';

const KB = 1024;

/** Waits for the stream's Request, skipping the terminator's Pings. */
async function request(c: ScriptedConnector): Promise<number> {
  for (;;) {
    const f: Frame = await c.frames.next(20_000);
    if (f.kind === FrameKind.Request) return f.id;
  }
}

/** Sends Data frames of `size` bytes until a Cancel for `sid` arrives (true) or `max` frames went out (false). */
async function sendUntilCancel(c: ScriptedConnector, sid: number, size: number, max: number): Promise<boolean> {
  const chunk = Buffer.alloc(size, 0x61);
  for (let i = 0; i < max; i++) {
    c.send(encodeFrame(FrameKind.Data, sid, undefined, chunk));
    // Paced by a Ping/Pong round trip per frame; a Cancel may arrive before the Pong.
    c.send(encodeFrame(FrameKind.Ping, 1000 + i));
    for (;;) {
      const f = await c.frames.next(20_000);
      if (f.kind === FrameKind.Cancel && f.id === sid) return true;
      if (f.kind === FrameKind.Pong && f.id === 1000 + i) break;
    }
  }
  return false;
}

t.test('answers are bounded', async (t) => {
  const f = await TestFabric.start(t, { deployments: ['model-big'] });
  const [ingress, slowReader, term] = await Promise.all([
    f.ingress({ TOKIOS_MAX_ANSWER_BYTES: String(1024 * KB) }),
    f.ingress({ TOKIOS_MAX_UNSENT_ANSWER_BYTES: String(256 * KB) }),
    f.terminator(),
  ]);
  const c = await ScriptedConnector.dial(term.url, { connectorId: 'con_big', maxConcurrency: 4 }, f.seeded.deployments['model-big']!.token);
  t.teardown(() => c.close());

  await t.test('a whole answer over TOKIOS_MAX_ANSWER_BYTES is a 502 and the generation is cancelled', async (t) => {
    const pending = fetch(`${ingress.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${f.seeded.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'model-big', messages: [{ role: 'user', content: 'big' }] }),
    });
    const sid = await request(c);
    c.send(encodeFrame(FrameKind.Head, sid, { status: 200, contentType: 'application/json' }));
    t.ok(await sendUntilCancel(c, sid, 128 * KB, 64), 'the connector is told to stop (Cancel) soon after 1 MiB');
    const r = await pending;
    t.equal(r.status, 502);
    t.match(await r.json(), { error: { message: /over 1048576 bytes/ } });
  });

  await t.test('a caller that stops reading: cancelled past TOKIOS_MAX_UNSENT_ANSWER_BYTES', async (t) => {
    const socket = netConnect({ host: '127.0.0.1', port: Number(new URL(slowReader.url).port) });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const body = JSON.stringify({ model: 'model-big', stream: true, messages: [{ role: 'user', content: 'stream' }] });
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${f.seeded.apiKey}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    socket.pause(); // and never read
    const sid = await request(c);
    c.send(encodeFrame(FrameKind.Head, sid, { status: 200, contentType: 'text/event-stream' }));
    // The kernel's socket buffers fill first (a few MiB on loopback), then the ingress's own passes 256 KiB.
    t.ok(await sendUntilCancel(c, sid, 256 * KB, 120), 'the generation is cancelled (well under the 32 MiB answer cap)');
    await slowReader.proc.waitFor(/"outcome":"client_not_reading"/);
    socket.destroy();
  });
});
