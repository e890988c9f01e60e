import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One exchange between an agent and the gateway, as seen on the wire. */
export interface Exchange {
  method: string;
  url: string;
  /** `stream` of the JSON request body, when it had one. */
  stream: boolean | undefined;
  status: number;
  contentType: string;
  /** The gateway's answer for a status ≥ 400 (its error body), for failure messages. */
  errorBody?: string;
}

/**
 * An HTTP hop between an agent and the gateway that forwards every byte both ways and notes each exchange
 * (path, whether the agent asked for a stream, the status and content type it got, the error body of a refusal):
 * what the agent asked and how the gateway answered, without touching either side.
 */
export class RecordingProxy {
  readonly exchanges: Exchange[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  private constructor(private readonly target: URL) {
    this.server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const body = Buffer.concat(parts);
        const ex: Exchange = { method: req.method ?? 'GET', url: req.url ?? '/', stream: streamFlag(body), status: 0, contentType: '' };
        this.exchanges.push(ex);
        const up = request(
          { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: { ...req.headers, host: this.target.host } },
          (answer: IncomingMessage) => {
            ex.status = answer.statusCode ?? 0;
            ex.contentType = String(answer.headers['content-type'] ?? '');
            res.writeHead(ex.status, answer.headers);
            if (ex.status >= 400) {
              let text = '';
              answer.on('data', (c: Buffer) => (text += c.toString()));
              answer.on('end', () => (ex.errorBody = text.slice(0, 2000)));
            }
            answer.pipe(res);
          },
        );
        up.on('error', (err) => {
          ex.status = 599;
          ex.errorBody = `proxy: ${err.message}`;
          if (!res.headersSent) res.writeHead(502);
          res.end();
        });
        res.on('close', () => up.destroy());
        up.end(body);
      });
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(target: string): Promise<RecordingProxy> {
    const p = new RecordingProxy(new URL(target));
    await new Promise<void>((r) => p.server.listen(0, '127.0.0.1', () => r()));
    p.port = (p.server.address() as AddressInfo).port;
    return p;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Exchanges from index `from` on, one line each, for failure messages. */
  describe(from = 0): string {
    return this.exchanges
      .slice(from)
      .map((e) => `${e.method} ${e.url} stream=${e.stream} → ${e.status} ${e.contentType}${e.errorBody ? ` ${e.errorBody}` : ''}`)
      .join('\n');
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function streamFlag(body: Buffer): boolean | undefined {
  if (body.length === 0) return undefined;
  try {
    const v = JSON.parse(body.toString('utf8')) as { stream?: unknown };
    return typeof v.stream === 'boolean' ? v.stream : undefined;
  } catch {
    return undefined;
  }
}
