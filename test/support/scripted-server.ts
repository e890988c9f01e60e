import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { EventEmitter } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';

/** What a scripted model server saw of one request. */
export interface SeenRequest {
  path: string;
  body: Record<string, unknown>;
  /** The request body exactly as received. */
  raw: Buffer;
  headers: IncomingMessage['headers'];
  aborted: boolean;
  finished: boolean;
}

/**
 * The lifecycle every scripted model server shares: a loopback HTTP server, a record of requests, and
 * 'request' / 'aborted' / 'finished' events tests await instead of sleeping. Subclasses answer requests.
 */
export abstract class ScriptedServer extends EventEmitter {
  readonly requests: SeenRequest[] = [];
  port = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly label: string) {
    super();
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;

  listen(port = 0): Promise<void> {
    return new Promise((resolve) => {
      this.server.listen(port, '127.0.0.1', () => {
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The most recent request. */
  get last(): SeenRequest {
    const r = this.requests.at(-1);
    if (!r) throw new Error(`the ${this.label} upstream saw no request`);
    return r;
  }

  /** Next event of a kind, as a promise. */
  next(event: 'request' | 'aborted' | 'finished'): Promise<SeenRequest> {
    return new Promise((resolve) => this.once(event, resolve));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
