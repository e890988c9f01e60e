import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** A child process of the bench: output kept (tail only) for error reports, killed whatever happens. */
export class Child {
  output = '';
  readonly exited: Promise<void>;
  private readonly waiters = new Set<() => void>();

  constructor(readonly name: string, readonly proc: ChildProcess) {
    const onData = (d: Buffer): void => {
      this.output = (this.output + d.toString()).slice(-20_000);
      for (const w of [...this.waiters]) w();
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    this.exited = new Promise((r) => proc.once('exit', () => r()));
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Resolves with the first match of `re` in the output; rejects on exit or after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const m = this.output.match(re);
        if (!m) return false;
        cleanup();
        resolve(m);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name}: no ${re} within ${timeoutMs} ms; output:\n${this.output.slice(-2000)}`));
      }, timeoutMs);
      const onExit = (): void => {
        if (check()) return;
        cleanup();
        reject(new Error(`${this.name} exited before ${re}; output:\n${this.output.slice(-2000)}`));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(listener);
        this.proc.off('exit', onExit);
      };
      const listener = (): void => void check();
      if (check()) return;
      this.waiters.add(listener);
      this.proc.once('exit', onExit);
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 2_000): Promise<void> {
    if (!this.running) return;
    this.proc.kill(signal);
    const t = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

const children = new Set<Child>();

export function spawnChild(name: string, cmd: string, args: string[], opts: SpawnOptions = {}): Child {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  const c = new Child(name, proc);
  children.add(c);
  void c.exited.then(() => children.delete(c));
  return c;
}

/** Stops every child (politely, then SIGKILL). */
export async function stopAll(graceMs = 1_500): Promise<void> {
  await Promise.all([...children].map((c) => c.stop('SIGTERM', graceMs)));
}

/** Last resort on a synchronous exit path: SIGKILL whatever is left. */
export function killAllNow(): void {
  for (const c of children) {
    try {
      c.proc.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
}

process.on('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    killAllNow();
    process.exit(130);
  });
}
