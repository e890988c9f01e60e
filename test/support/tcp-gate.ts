import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP relay to one backend whose directions can be held: bytes written meanwhile wait here and go on, in order, on
 * release(). Holding 'up' (client to backend) freezes what a NATS client has sent (an UNSUB, say) while the server
 * goes on delivering to it; holding 'down' delays what the server delivers (a link running behind), while the
 * client goes on sending. One client per gate in the tests that hold.
 */
export class TcpGate {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  private held: Buffer[] | undefined;
  private heldDown: Buffer[] | undefined;
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

  /** From now on, what clients send ('up') or what the backend sends them ('down') is kept here instead of forwarded. */
  hold(direction: 'up' | 'down' = 'up'): void {
    if (direction === 'up') this.held ??= [];
    else this.heldDown ??= [];
  }

  /** Forwards what was held in that direction, in order, and forwards directly again. */
  release(direction: 'up' | 'down' = 'up'): void {
    const held = (direction === 'up' ? this.held : this.heldDown) ?? [];
    if (direction === 'up') this.held = undefined;
    else this.heldDown = undefined;
    for (const { client, upstream } of this.pairs) for (const chunk of held) (direction === 'up' ? upstream : client).write(chunk);
  }

  private relay(client: Socket): void {
    const upstream = connect({ port: this.backendPort, host: '127.0.0.1' });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    const pair = { client, upstream };
    this.pairs.add(pair);
    upstream.on('close', () => {
      this.pairs.delete(pair);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    client.on('data', (chunk) => (this.held ? this.held.push(chunk) : upstream.write(chunk)));
    upstream.on('data', (chunk) => (this.heldDown ? this.heldDown.push(chunk) : client.write(chunk)));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
