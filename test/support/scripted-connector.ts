import { WebSocket } from 'ws';
import { FrameKind, encodeFrame, type HelloMeta, type WelcomeMeta } from '@tokios/shared/protocol';
import { FrameQueue } from './frame-queue.js';

/**
 * The connector's side of a tunnel, scripted by a test: dials a tunnel URL, sends Hello, and then sends and awaits
 * frames one by one. Speaks the real wire protocol over a real WebSocket.
 */
export class ScriptedConnector {
  readonly frames: FrameQueue;
  /** Resolves with the close code once the socket is closed. */
  readonly closed: Promise<number>;

  private constructor(
    readonly ws: WebSocket,
    readonly hello: HelloMeta,
    readonly welcome: WelcomeMeta,
    frames: FrameQueue,
    closed: Promise<number>,
  ) {
    this.frames = frames;
    this.closed = closed;
  }

  /** Dials `url`, sends Hello (defaults overridable) and waits for the Welcome. */
  static async dial(url: string, hello: Partial<HelloMeta> = {}, token?: string): Promise<ScriptedConnector> {
    const ws = new WebSocket(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, perMessageDeflate: false });
    const meta: HelloMeta = {
      connectorId: `con_${Math.random().toString(36).slice(2, 10)}`,
      version: 'test',
      upstreamKind: 'openai',
      models: [],
      maxConcurrency: 4,
      healthy: true,
      draining: false,
      ...hello,
    };
    const frames = new FrameQueue(`connector ${meta.connectorId}`);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('message', (d: Buffer) => frames.push(d));
    ws.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send(encodeFrame(FrameKind.Hello, 0, meta));
    const welcome = await frames.expect(FrameKind.Welcome);
    return new ScriptedConnector(ws, meta, welcome.meta, frames, closed);
  }

  get connectorId(): string {
    return this.hello.connectorId;
  }

  send(frame: Buffer): void {
    this.ws.send(frame, { binary: true });
  }

  /** Resolves once the terminator has handled every frame sent before (it answers Pings in order). */
  async barrier(id = 77): Promise<void> {
    this.send(encodeFrame(FrameKind.Ping, id));
    for (;;) {
      const f = await this.frames.next();
      if (f.kind === FrameKind.Pong && f.id === id) return;
      if (f.kind !== FrameKind.Ping) throw new Error(`unexpected ${f.kind} while waiting for Pong ${id}`);
    }
  }

  async close(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.close();
    await this.closed;
  }
}
