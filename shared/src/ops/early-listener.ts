import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { OPS_PATHS } from './endpoints.js';

/** What a tier answers, while it starts, to a request that is not an operations path (its API's own 503 shape). */
export type StartingAnswer = (req: IncomingMessage, res: ServerResponse) => void;
export type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** The /readyz body while a process joins NATS: the shape of a readiness report, plus what it is doing. */
export const STARTING_READINESS = { status: 'starting', ready: false, draining: false, checks: {} } as const;

/**
 * Connections the kernel may hold completed for a server whose event loop has not accepted them yet (Node's default
 * is 511). A burst past it (thousands of callers at once, or every connector of a restarted terminator dialling
 * back) overflows the queue: with SYN cookies the client believes it is connected, sends its request and is answered
 * with a reset (`read ECONNRESET`). The kernel caps this at net.core.somaxconn (4096 on current kernels).
 */
export const LISTEN_BACKLOG = 4096;

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
};

/**
 * A service's HTTP server, bound before anything else starts (store, NATS, quota sharing), so that a port in use is
 * reported at once and nothing has joined the fabric when it is; and so that probes get an answer while the process
 * joins NATS: /healthz 200 (alive), /readyz 503 `starting`, /metrics 503, the API its own 503 (`starting`), tunnel
 * upgrades 503. The tier's real handler takes the same server over once it is ready (`serve`, or `fastifyServer` as
 * Fastify's serverFactory), so no port is ever released and re-bound.
 */
export class EarlyListener {
  private handler: RequestListener;
  private upgrade: UpgradeListener;

  private constructor(
    readonly server: Server,
    readonly port: number,
    starting: StartingAnswer,
  ) {
    this.handler = (req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path === OPS_PATHS.healthz) json(res, 200, { ok: true, starting: true });
      else if (path === OPS_PATHS.readyz || path === OPS_PATHS.metrics) json(res, 503, STARTING_READINESS);
      else starting(req, res);
    };
    this.upgrade = (_req, socket) => {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n');
    };
    server.on('request', (req, res) => this.handler(req, res));
    server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  /**
   * Binds `server` (created without a request listener) on host:port; rejects with listen()'s error (EADDRINUSE …),
   * which the caller turns into its one-line message.
   */
  static async bind(server: Server, port: number, host: string, starting: StartingAnswer): Promise<EarlyListener> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
        server.removeListener('error', onError);
        resolve();
      });
    });
    const addr = server.address();
    return new EarlyListener(server, typeof addr === 'object' && addr ? addr.port : port, starting);
  }

  /** From now on requests go to `handler` and upgrades to `upgrade` (none: refused like while starting). */
  serve(handler: RequestListener, upgrade?: UpgradeListener): void {
    this.handler = handler;
    if (upgrade) this.upgrade = upgrade;
  }

  /** Upgrades only (`tokios dev`, whose terminator comes after its HTTP app). */
  onUpgrade(upgrade: UpgradeListener): void {
    this.upgrade = upgrade;
  }

  /**
   * Fastify's serverFactory: the bound server. Fastify calls its listen() once the app is ready; the port is bound
   * already, so that call hands the requests over and reports the binding (Fastify then counts itself listening
   * and closes the server on app.close(), as for a server it bound itself).
   */
  readonly fastifyServer = (handler: RequestListener): Server => {
    const server = this.server;
    server.listen = ((...args: unknown[]) => {
      this.serve(handler);
      const cb = args.find((a): a is () => void => typeof a === 'function');
      process.nextTick(() => {
        server.emit('listening');
        cb?.();
      });
      return server;
    }) as Server['listen'];
    return server;
  };

  /** Releases the port (a start that failed after binding). */
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
