import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as netConnect } from 'node:net';
import { connect } from 'nats';
import { freePort } from './ports.js';
import { reap } from './reaper.js';

const BIN = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function waitPort(port: number, open: boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await portOpen(port)) !== open) {
    if (Date.now() > deadline) throw new Error(`port ${port} did not become ${open ? 'open' : 'closed'}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Lame-duck mode for rolling restarts: lame_duck_duration cannot be below 30 s; the clients leave at once anyway (they
 * reconnect on the lame-duck notice), and the node exits when they are gone.
 */
export const LAME_DUCK_CONFIG = 'lame_duck_duration: "30s"\nlame_duck_grace_period: "1s"\n';

/** Writes a nats-server config (e.g. `renderServerConfig` users and permissions) to a temporary file: `-c` args. */
export function configArgs(config: string | undefined): string[] {
  if (config === undefined) return [];
  const file = join(mkdtempSync(join(tmpdir(), 'tokios-nats-conf-')), 'nats.conf');
  writeFileSync(file, config);
  return ['-c', file];
}

/** A nats-server process on a free port that a test can kill and restart on the same port. */
export class NatsServer {
  private child: ChildProcess | undefined;
  constructor(
    readonly port: number,
    private readonly extraArgs: string[] = [],
    /** HTTP monitoring port (`-m`, on the client address 127.0.0.1), when asked for: `/connz` lists the node's client connections. */
    readonly monitorPort?: number,
  ) {}

  /** `config`: a config file's text (authorization, limits); the listen address always comes from the arguments. */
  static async start(extraArgs: string[] = [], config?: string): Promise<NatsServer> {
    const s = new NatsServer(await freePort(), [...configArgs(config), ...extraArgs]);
    await s.restart();
    return s;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    // A process killed by a signal has exitCode null and a signalCode: only a live one counts as running.
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return;
    const monitor = this.monitorPort === undefined ? [] : ['-m', String(this.monitorPort)];
    this.child = reap(spawn(BIN, ['-a', '127.0.0.1', '-p', String(this.port), ...monitor, ...this.extraArgs], { stdio: 'ignore' }));
    await waitPort(this.port, true);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await exited;
  }

  stop(): Promise<void> {
    return this.kill('SIGTERM');
  }

  /** Names of the client connections on this node (its monitoring `/connz`; needs `monitorPort`). */
  async clientNames(): Promise<string[]> {
    if (this.monitorPort === undefined) throw new Error('this nats-server has no monitoring port');
    const r = await fetch(`http://127.0.0.1:${this.monitorPort}/connz?limit=4096`);
    const body = (await r.json()) as { connections?: { name?: string }[] };
    return (body.connections ?? []).map((c) => c.name ?? '');
  }
}

/** Three routed nats-servers; `urls` lists all client ports. */
export class NatsCluster {
  private constructor(readonly nodes: NatsServer[]) {}

  /** `monitor`: each node gets an HTTP monitoring port (`NatsServer.clientNames`). */
  static async start(size = 3, config?: string, monitor = false): Promise<NatsCluster> {
    const conf = configArgs(config);
    const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
    const routes = clusterPorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
    const nodes: NatsServer[] = [];
    for (let i = 0; i < size; i++) {
      const args = [...conf, '--name', `n${i}`, '--cluster_name', 'tokios-test', '--cluster', `nats://127.0.0.1:${clusterPorts[i]}`, '--routes', routes];
      nodes.push(new NatsServer(await freePort(), args, monitor ? await freePort() : undefined));
    }
    await Promise.all(nodes.map((n) => n.restart()));
    return new NatsCluster(nodes);
  }

  get urls(): string {
    return this.nodes.map((n) => n.url).join(',');
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  /**
   * A rolling restart in lame-duck mode, one node at a time: SIGUSR2 (the node tells its clients, which move, and it
   * exits once they are gone), start it again on its port, wait until it routes to the next node again.
   */
  async rollingRestart(onNode: (n: number) => void = () => undefined): Promise<void> {
    for (const [n, node] of this.nodes.entries()) {
      await node.kill('SIGUSR2');
      await node.restart();
      await routed(node, this.nodes[(n + 1) % this.nodes.length]!);
      onNode(n);
    }
  }
}

/** Resolves once a message published on `a` reaches a subscriber on `b` (a restarted node is routed again). */
export async function routed(a: NatsServer, b: NatsServer, timeoutMs = 30_000): Promise<void> {
  const [pub, sub] = await Promise.all([connect({ servers: a.url, name: 'test-route-check' }), connect({ servers: b.url, name: 'test-route-check' })]);
  try {
    const s = sub.subscribe('test.route.check');
    await sub.flush();
    let got = false;
    void (async () => {
      for await (const _m of s) {
        got = true;
        break;
      }
    })();
    const deadline = Date.now() + timeoutMs;
    while (!got) {
      if (Date.now() > deadline) throw new Error(`${a.url} did not route to ${b.url} within ${timeoutMs} ms`);
      pub.publish('test.route.check');
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await Promise.all([pub.close(), sub.close()]);
  }
}
