/**
 * Opens N idle tunnel sessions to a terminator, like N connectors would (valid token, Hello frame),
 * answers Pings, and holds them until killed. Prints "ready <n>" once every tunnel got its Welcome.
 *
 *   node idle-tunnels.js <ws-url> <token> <count>
 */
import { WebSocket } from 'ws';
import { FrameKind, encodeFrame } from '@tokios/shared/protocol';

const [url, token, countArg] = process.argv.slice(2);
const count = Number(countArg ?? 1000);
const PARALLEL = 50;
if (!url || !token) {
  process.stderr.write('usage: idle-tunnels <ws-url> <token> <count>\n');
  process.exit(2);
}

const sockets: WebSocket[] = [];
let welcomed = 0;
let failed = 0;

function open(i: number): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url!, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false, handshakeTimeout: 10_000 });
    sockets.push(ws);
    let done = false;
    const settle = (): void => {
      if (!done) {
        done = true;
        resolve();
      }
    };
    ws.on('open', () => {
      ws.send(
        encodeFrame(FrameKind.Hello, 0, {
          connectorId: `con_idle${i}`, version: 'bench', upstreamKind: 'openai', models: ['idle'], maxConcurrency: 1, healthy: true, draining: false,
        }),
      );
    });
    ws.on('message', (data: Buffer) => {
      const kind = data[0];
      if (kind === FrameKind.Welcome) {
        welcomed++;
        settle();
      } else if (kind === FrameKind.Ping) ws.send(encodeFrame(FrameKind.Pong, data.readUInt32BE(1)));
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (!done) failed++;
      settle();
    });
  });
}

async function main(): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < count) await open(next++);
    }),
  );
  process.stdout.write(`ready ${welcomed} failed ${failed}\n`);
}

void main();
process.on('SIGTERM', () => {
  for (const ws of sockets) ws.terminate();
  process.exit(0);
});
