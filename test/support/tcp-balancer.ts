import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the load balancer in front of the terminators: each incoming TCP connection goes to the next backend
 * port in turn, skipping those that refuse. Connectors use it as their gateway, as they would in production.
 */
export class TcpBalancer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private turn = 0;
  port = 0;

  private constructor(readonly backends: number[]) {
    this.server = createServer((client) => this.route(client));
  }

  static async start(backends: number[]): Promise<TcpBalancer> {
    const b = new TcpBalancer(backends);
    await new Promise<void>((r) => b.server.listen(0, '127.0.0.1', () => r()));
    b.port = (b.server.address() as AddressInfo).port;
    return b;
  }

  /** Tunnel URL through the balancer. */
  get url(): string {
    return `ws://127.0.0.1:${this.port}/v1/tunnel`;
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => s.destroy());
  }

  private route(client: Socket): void {
    this.track(client);
    client.pause();
    const order = this.backends.map((_, i) => this.backends[(this.turn + i) % this.backends.length]!);
    this.turn++;
    const attempt = (i: number): void => {
      if (client.destroyed) return;
      const port = order[i];
      if (port === undefined) {
        client.destroy();
        return;
      }
      const upstream = connect({ port, host: '127.0.0.1' });
      upstream.once('error', () => attempt(i + 1));
      upstream.once('connect', () => {
        upstream.removeAllListeners('error');
        this.track(upstream);
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    attempt(0);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
