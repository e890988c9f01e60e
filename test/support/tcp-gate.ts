import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP relay to one backend whose client-to-backend direction can be held: bytes the client writes meanwhile wait
 * here and go on, in order, on release(). It lets a test freeze what a NATS client has sent (an UNSUB, say) while
 * the server goes on delivering to it, which is how a real race between the two directions looks.
 */
export class TcpGate {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly upstreams = new Set<Socket>();
  private held: Buffer[] | undefined;
  port = 0;

  private constructor(private readonly backendPort: number) {
    this.server = createServer((client) => this.relay(client));
  }

  static async start(backendPort: number): Promise<TcpGate> {
    const g = new TcpGate(backendPort);
    await new Promise<void>((r) => g.server.listen(0, '127.0.0.1', () => r()));
    g.port = (g.server.address() as AddressInfo).port;
    return g;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** From now on, what clients send is kept here instead of forwarded. */
  hold(): void {
    this.held ??= [];
  }

  /** Forwards what was held, in order, and forwards directly again. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const up of this.upstreams) for (const chunk of held) up.write(chunk);
  }

  private relay(client: Socket): void {
    const upstream = connect({ port: this.backendPort, host: '127.0.0.1' });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    this.upstreams.add(upstream);
    upstream.on('close', () => {
      this.upstreams.delete(upstream);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    // One client per gate in the tests that hold: the held bytes are that client's.
    client.on('data', (chunk) => (this.held ? this.held.push(chunk) : upstream.write(chunk)));
    upstream.pipe(client);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
