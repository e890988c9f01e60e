import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as netConnect } from 'node:net';
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
    this.child = reap(spawn(BIN, ['-a', '127.0.0.1', '-p', String(this.port), ...this.extraArgs], { stdio: 'ignore' }));
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
}

/** Three routed nats-servers; `urls` lists all client ports. */
export class NatsCluster {
  private constructor(readonly nodes: NatsServer[]) {}

  static async start(size = 3, config?: string): Promise<NatsCluster> {
    const conf = configArgs(config);
    const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
    const routes = clusterPorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
    const nodes: NatsServer[] = [];
    for (let i = 0; i < size; i++) {
      nodes.push(new NatsServer(await freePort(), [...conf, '--name', `n${i}`, '--cluster_name', 'tokios-test', '--cluster', `nats://127.0.0.1:${clusterPorts[i]}`, '--routes', routes]));
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
}
