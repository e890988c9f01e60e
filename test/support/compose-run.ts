import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { freePort } from './ports.js';
import { LoopbackNetwork, dockerfileEntrypoint, dockerfileWorkdir, durationMs, loadCompose, type ComposeFile, type ComposeService } from './compose.js';
import { Proc, ROOT, SERVICE_START_MS } from './processes.js';
import { reap } from './reaper.js';

/** The executable named `name` on PATH (or at an absolute path), if any. */
export function findExecutable(name: string, extra: string[] = []): string | undefined {
  const candidates = name.includes('/') ? [name] : [...extra, ...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, name))];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** What stands in for each image: a local binary, or why there is none. Only images are replaced. */
type Stand = { kind: 'tokios' } | { kind: 'binary'; bin: string; defaultEntrypoint: string[] } | { kind: 'nginx'; bin: string } | { kind: 'missing'; why: string };

function standFor(s: ComposeService): Stand {
  if (s.build !== undefined) return { kind: 'tokios' };
  const image = s.image ?? '';
  if (image.startsWith('nats:')) {
    const bin = findExecutable(process.env.NATS_SERVER_BIN ?? 'nats-server', ['/usr/sbin/nats-server']);
    return bin ? { kind: 'binary', bin, defaultEntrypoint: [] } : { kind: 'missing', why: 'nats-server is not installed' };
  }
  if (image.startsWith('nginx:')) {
    const bin = findExecutable('nginx', ['/usr/sbin/nginx']);
    return bin ? { kind: 'nginx', bin } : { kind: 'missing', why: 'nginx is not installed (apt-get install nginx)' };
  }
  if (image.startsWith('mongo:')) return { kind: 'missing', why: 'no MongoDB server can be installed here (not in Debian); the services use the embedded store instead' };
  return { kind: 'missing', why: `no local stand-in for image ${image}` };
}

/** Programs of exec-form commands inside the images, mapped to this machine's. */
function program(name: string): string {
  if (name === 'node') return process.execPath;
  const found = findExecutable(name);
  if (!found) throw new Error(`${name} is not installed here`);
  return found;
}

export interface OneShotResult {
  code: number | null;
  /** stdout alone (what `--json` prints), and stdout with stderr. */
  stdout: string;
  output: string;
}

/**
 * docker-compose.yml run as local processes: the same commands, environments and ports (mapped to loopback by
 * LoopbackNetwork), volumes as directories under one temp dir, each image replaced by a local binary. Services whose
 * image has no stand-in are left out, with the reason (`skipped`).
 */
export class LocalCompose {
  readonly procs = new Map<string, Proc>();
  readonly skipped = new Map<string, string>();
  private readonly started: string[] = [];
  private readonly workdir = dockerfileWorkdir();

  private constructor(readonly file: ComposeFile, readonly net: LoopbackNetwork, readonly dir: string) {}

  static async prepare(vars: Record<string, string | undefined> = {}): Promise<LocalCompose> {
    const file = loadCompose(vars);
    const dir = await mkdtemp(join(tmpdir(), 'tokios-compose-'));
    const lc = new LocalCompose(file, new LoopbackNetwork(file), dir);
    for (const s of file.services.values()) {
      const stand = standFor(s);
      if (stand.kind === 'missing') lc.skipped.set(s.name, stand.why);
    }
    const running = [...file.services.values()].filter((s) => !lc.skipped.has(s.name));
    await lc.net.assign(
      running,
      freePort,
      (_s, source, bind) => (bind ? resolve(ROOT, source) : lc.volume(source)),
      // The image's own files: the checkout stands in for /app.
      (s) => (s.build !== undefined ? [{ target: lc.workdir, local: ROOT }] : []),
    );
    return lc;
  }

  /** A named volume's directory. */
  volume(name: string): string {
    const d = join(this.dir, 'volumes', name);
    mkdirSync(d, { recursive: true });
    return d;
  }

  service(name: string): ComposeService {
    const s = this.file.services.get(name);
    if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
    return s;
  }

  /** The process a service runs: program, arguments, environment and working directory, as on loopback. */
  argv(name: string, commandOverride?: string[]): { bin: string; args: string[]; env: NodeJS.ProcessEnv; cwd: string } {
    const s = this.service(name);
    const stand = standFor(s);
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
    for (const [k, v] of Object.entries(s.environment)) env[k] = this.net.rewrite(s, v);
    const command = (commandOverride ?? s.command ?? []).map((a) => this.net.rewrite(s, a));
    switch (stand.kind) {
      case 'tokios': {
        const [prog, ...rest] = (s.entrypoint ?? dockerfileEntrypoint()).map((a) => this.net.rewrite(s, a));
        return { bin: program(prog!), args: [...rest, ...command], env, cwd: ROOT };
      }
      case 'binary':
        return { bin: stand.bin, args: [...(s.entrypoint ?? stand.defaultEntrypoint).map((a) => this.net.rewrite(s, a)), ...command], env, cwd: this.dir };
      case 'nginx':
        return { bin: stand.bin, args: this.nginxArgs(s), env, cwd: this.dir };
      case 'missing':
        throw new Error(`${name}: ${stand.why}`);
    }
  }

  /**
   * The nginx image's main config includes conf.d/*.conf inside `http {}`; here a main config does the same for the
   * mounted conf, rewritten to loopback (`listen P` becomes that service's loopback port), in the foreground.
   */
  private nginxArgs(s: ComposeService): string[] {
    const d = join(this.dir, `nginx-${s.name}`);
    mkdirSync(d, { recursive: true });
    const includes = s.volumes.filter((v) => v.bind && v.target.startsWith('/etc/nginx/conf.d/'));
    const confs = includes.map((v, i) => {
      const text = readFileSync(resolve(ROOT, v.source), 'utf8').replace(/^(\s*listen\s+)(\d+)\b/gm, (_w, pre: string, port: string) => `${pre}127.0.0.1:${this.net.port(s.name, Number(port))}`);
      const f = join(d, `conf-${i}.conf`);
      writeFileSync(f, this.net.rewrite(s, text));
      return f;
    });
    const temp = (k: string) => `${k}_temp_path ${join(d, k)};`;
    writeFileSync(
      join(d, 'nginx.conf'),
      [
        'daemon off;',
        'master_process off;',
        'worker_processes 1;',
        `pid ${join(d, 'nginx.pid')};`,
        'error_log stderr notice;',
        'events { worker_connections 512; }',
        'http {',
        '  access_log off;',
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${temp(k)}`),
        ...confs.map((f) => `  include ${f};`),
        '}',
        '',
      ].join('\n'),
    );
    return ['-p', d, '-c', join(d, 'nginx.conf'), '-e', 'stderr'];
  }

  /** Starts a long-running service; resolves once its healthcheck passes (or at once without one). */
  async start(name: string): Promise<Proc> {
    const { bin, args, env, cwd } = this.argv(name);
    const proc = new Proc(name, reap(spawn(bin, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })));
    this.procs.set(name, proc);
    this.started.push(name);
    await this.healthy(name);
    return proc;
  }

  /** Runs a one-shot service (or `docker compose run NAME ARGS…`) to its end. */
  async run(name: string, commandOverride?: string[]): Promise<OneShotResult> {
    const { bin, args, env, cwd } = this.argv(name, commandOverride);
    const proc = new Proc(name, reap(spawn(bin, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })));
    let stdout = '';
    proc.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    const { code } = await proc.exited;
    return { code, stdout, output: proc.output };
  }

  /** Runs the service's healthcheck command (mapped to loopback) until it passes; fails if the service exits. */
  async healthy(name: string): Promise<void> {
    const s = this.service(name);
    if (!s.healthcheck) return;
    const [, prog, ...rest] = s.healthcheck.test.map((a) => this.net.rewrite(s, a));
    const bin = program(prog!);
    // Docker kills a check that runs past `timeout`; here a loaded machine can take seconds just to start node.
    const timeout = Math.max(durationMs(s.healthcheck.timeout), 20_000);
    // A readiness bound, not a speed check: five CLI processes loading at once on a shared, loaded 2-core machine
    // took over 60 s to listen (Docker would keep retrying too: `restart`, `retries`).
    const deadline = Date.now() + 3 * SERVICE_START_MS + durationMs(s.healthcheck.start_period);
    let last = '';
    for (;;) {
      const proc = this.procs.get(name);
      if (proc && !proc.running) throw new Error(`${name} exited before its healthcheck passed. Output:\n${proc.output.slice(-3000)}`);
      const r = await new Promise<{ ok: boolean; out: string }>((res) =>
        execFile(bin, rest, { timeout, env: { PATH: process.env.PATH } }, (err, stdout, stderr) =>
          res({ ok: !err, out: `${stdout}${stderr}${err ? ` [${err.killed ? `killed after ${timeout} ms` : `exit ${String(err.code)}`}]` : ''}` }),
        ),
      );
      if (r.ok) return;
      last = r.out;
      if (Date.now() > deadline) throw new Error(`${name}: healthcheck ${[prog, ...rest].join(' ')} still failing (${last.trim()}). Output:\n${proc?.output.slice(-3000)}`);
      // Docker re-runs a failing healthcheck every interval; a short pause here keeps the loop from spinning.
      await new Promise((r2) => setTimeout(r2, 200));
    }
  }

  /** Stops one service with a signal (default: its stop_signal) and resolves with its exit. */
  async stop(name: string, signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; within: boolean }> {
    const proc = this.procs.get(name);
    if (!proc) throw new Error(`${name} is not running`);
    const s = this.service(name);
    proc.signal(signal ?? ((s.stop_signal ?? 'SIGTERM') as NodeJS.Signals));
    const grace = durationMs(s.stop_grace_period ?? '10s');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), grace)));
    const first = await Promise.race([proc.exited, late]);
    clearTimeout(timer);
    if (first === 'late') {
      await proc.kill();
      return { ...(await proc.exited), within: false };
    }
    return { ...first, within: true };
  }

  /** Kills whatever still runs, last started first, and removes the volumes (`docker compose down -v`). */
  async down(): Promise<void> {
    for (const name of [...this.started].reverse()) await this.procs.get(name)?.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}
