/**
 * Opens N idle tunnel sessions to a terminator, like N/2 connectors would (each token held by two tunnels, as a
 * connector's default `tunnels: 2`; a valid token and Hello each), answers Pings, and holds them until killed.
 * Prints "ready <n> failed <m>" once every tunnel got its Welcome (or failed).
 *
 *   node idle-tunnels.js <ws-url> <tokens-file (one secret a line)> <count>
 */
import { readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { FrameKind, encodeFrame } from '@tokios/shared/protocol';

const [url, tokensFile, countArg] = process.argv.slice(2);
const count = Number(countArg ?? 1000);
const PARALLEL = 64;
const TUNNELS_PER_TOKEN = 2;
if (!url || !tokensFile) {
  process.stderr.write('usage: idle-tunnels <ws-url> <tokens-file> <count>\n');
  process.exit(2);
}
const tokens = readFileSync(tokensFile, 'utf8').split('\n').filter(Boolean);
if (tokens.length * TUNNELS_PER_TOKEN < count) {
  process.stderr.write(`need ${Math.ceil(count / TUNNELS_PER_TOKEN)} tokens for ${count} tunnels, got ${tokens.length}\n`);
  process.exit(2);
}

const sockets: WebSocket[] = [];
let welcomed = 0;
let failed = 0;
let firstFailure = '';

function open(i: number): Promise<void> {
  const token = tokens[Math.floor(i / TUNNELS_PER_TOKEN)]!;
  return new Promise((resolve) => {
    const ws = new WebSocket(url!, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false, handshakeTimeout: 20_000 });
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
          connectorId: `con_idle${Math.floor(i / TUNNELS_PER_TOKEN)}`, version: 'bench', upstreamKind: 'openai', models: ['idle'], maxConcurrency: 1, healthy: true, draining: false,
        }),
      );
    });
    ws.on('message', (data: Buffer) => {
      const kind = data[0];
      if (kind === FrameKind.Welcome) {
        if (!done) welcomed++;
        settle();
      } else if (kind === FrameKind.Ping) ws.send(encodeFrame(FrameKind.Pong, data.readUInt32BE(1)));
    });
    ws.on('unexpected-response', (_req, res) => {
      firstFailure ||= `HTTP ${res.statusCode}`;
      ws.terminate();
    });
    ws.on('error', (err) => {
      firstFailure ||= err.message;
    });
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
  process.stdout.write(`ready ${welcomed} failed ${failed}${firstFailure ? ` first failure: ${firstFailure}` : ''}\n`);
}

void main();
process.on('SIGTERM', () => {
  for (const ws of sockets) ws.terminate();
  process.exit(0);
});
