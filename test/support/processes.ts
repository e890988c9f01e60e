import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';
import { reap } from './reaper.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = join(ROOT, 'services/cli/dist/src/main.js');

/** A child process of ours with its output kept for assertions and debugging. */
export class Proc {
  output = '';
  private readonly waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly name: string, readonly child: ChildProcess) {
    const onData = (d: Buffer): void => {
      this.output += d.toString();
      for (const w of [...this.waiters]) {
        const m = this.output.match(w.re);
        if (m) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  }

  /** Resolves when the output (so far or later) matches; rejects on exit or timeout. */
  waitFor(re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    const m = this.output.match(re);
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.name}: no ${re} within ${timeoutMs} ms. Output:\n${this.output.slice(-3000)}`)), timeoutMs);
      const w = {
        re,
        resolve: (x: RegExpMatchArray) => {
          clearTimeout(t);
          resolve(x);
        },
      };
      this.waiters.push(w);
      void this.exited.then(({ code, signal }) => {
        if (!this.waiters.includes(w)) return;
        clearTimeout(t);
        reject(new Error(`${this.name} exited (${code ?? signal}) before ${re}. Output:\n${this.output.slice(-3000)}`));
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    await this.exited;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }
}

/**
 * How long a service process may take to come up. Loading the CLI costs ~3 s of CPU here, so when a test starts
 * four at once on a loaded 2-core machine, 15 s was not always enough (readiness, not a speed assertion).
 */
export const SERVICE_START_MS = 45_000;

export function spawnCli(name: string, args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = reap(spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  return new Proc(name, child);
}

/** The port a service bound, from its first log line (services bind before joining NATS; port 0 picks a free one). */
export async function boundPort(proc: Proc): Promise<number> {
  const m = await proc.waitFor(/"port":(\d+)[^\n]*"msg":"port bound; joining NATS"/, SERVICE_START_MS);
  return Number(m[1]);
}

/** An ingress on a port it picks itself (port 0): a port chosen here first could be taken before the process binds it. */
export async function startIngressProc(env: NodeJS.ProcessEnv): Promise<{ proc: Proc; port: number; url: string }> {
  const proc = spawnCli('ingress', ['ingress'], { ...env, TOKIOS_INGRESS_HOST: '127.0.0.1', TOKIOS_INGRESS_PORT: '0' });
  const port = await boundPort(proc);
  await proc.waitFor(/ingress listening/, SERVICE_START_MS);
  return { proc, port, url: `http://127.0.0.1:${port}` };
}

export async function startTerminatorProc(env: NodeJS.ProcessEnv, port?: number): Promise<{ proc: Proc; port: number; url: string }> {
  const p = port ?? (await freePort());
  const url = `ws://127.0.0.1:${p}/v1/tunnel`;
  const proc = spawnCli('terminator', ['terminator'], {
    ...env, TOKIOS_TERMINATOR_HOST: '127.0.0.1', TOKIOS_TERMINATOR_PORT: String(p), TOKIOS_PUBLIC_TUNNEL_URL: env.TOKIOS_PUBLIC_TUNNEL_URL ?? url,
  });
  await proc.waitFor(/terminator listening/, SERVICE_START_MS);
  return { proc, port: p, url };
}

/** A tokios.json: one deployment (`tunnel_token`) or several (`deployments`). */
export type ConnectorFile = {
  upstream: string;
  gateway: string;
  [k: string]: unknown;
} & ({ tunnel_token: string } | { deployments: ({ tunnel_token: string } & Record<string, unknown>)[] });

export async function startConnectorProc(config: ConnectorFile, env: NodeJS.ProcessEnv = {}, wait = true): Promise<Proc> {
  const dir = await mkdtemp(join(tmpdir(), 'tokios-conn-'));
  const file = join(dir, 'tokios.json');
  await writeFile(file, JSON.stringify(config));
  const proc = spawnCli('connector', ['connector', '--config', file], env);
  if (wait) await proc.waitFor(/Tunnel established/, SERVICE_START_MS);
  return proc;
}
