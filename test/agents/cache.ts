import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { release, reap } from '../support/reaper.js';

/**
 * Real clients (coding agents, SDKs) installed with exact versions into a cache outside the workspace: their
 * platform binaries make a lockfile that `npm ci` refuses on another machine, so they must never enter
 * package-lock.json. One folder per bundle, `<cache>/<id>/`, complete only when its marker file is there.
 */
export function cacheRoot(): string {
  return process.env.TOKIOS_AGENTS_CACHE || join(homedir(), '.cache', 'tokios-agents');
}

/** A set of packages installed together (a client and the peers it needs), named by its main package. */
export interface Bundle {
  /** `name@version` of the main package; also the cache folder's name (`/` → `+`). */
  id: string;
  /** Exact `name@version` specs, the main package included. */
  packages: readonly string[];
}

const MARKER = '.tokios-installed.json';
/** A cold install of all four agents takes about a minute here; this bounds a stuck registry. */
export const INSTALL_TIMEOUT_MS = Number(process.env.TOKIOS_AGENTS_INSTALL_TIMEOUT_MS) || 10 * 60_000;

export function bundleDir(b: Bundle): string {
  return join(cacheRoot(), b.id.replaceAll('/', '+'));
}

async function markerMatches(dir: string, b: Bundle): Promise<boolean> {
  try {
    const m = JSON.parse(await readFile(join(dir, MARKER), 'utf8')) as { packages?: unknown };
    return JSON.stringify(m.packages) === JSON.stringify(b.packages);
  } catch {
    return false;
  }
}

export interface Installed {
  dir: string;
  /** False when the cache already had it. */
  installed: boolean;
  ms: number;
}

type Log = (line: string) => void;

/** Installs in progress in this process, by bundle folder: a second caller shares the first one's promise. */
const inflight = new Map<string, Promise<Installed>>();

/**
 * Makes sure the bundle is in the cache: a folder with a matching marker is used as it is; anything else (a half
 * install, another version list) is installed afresh into a side folder of this process and moved into place when
 * npm succeeded, so a crash never leaves a folder that looks complete. Concurrent callers of one bundle wait for
 * the first (one promise within a process, a lock folder across processes).
 */
export function ensureBundle(b: Bundle, log: Log = (l) => console.error(l)): Promise<Installed> {
  const dir = bundleDir(b);
  const running = inflight.get(dir);
  if (running) return running;
  const p = install(b, dir, log).finally(() => inflight.delete(dir));
  inflight.set(dir, p);
  return p;
}

async function install(b: Bundle, dir: string, log: Log): Promise<Installed> {
  const started = Date.now();
  const cached = (): Installed => ({ dir, installed: false, ms: Date.now() - started });
  if (await markerMatches(dir, b)) return cached();
  await mkdir(cacheRoot(), { recursive: true });
  const release = await lock(`${dir}.lock`, log, b.id);
  try {
    if (await markerMatches(dir, b)) return cached();
    await removeDeadSideFolders(dir);
    const side = `${dir}.partial-${process.pid}`;
    await rm(side, { recursive: true, force: true });
    await mkdir(side, { recursive: true });
    await writeFile(join(side, 'package.json'), `${JSON.stringify({ name: 'tokios-agents-cache', private: true }, null, 2)}\n`);
    log(`agents cache: installing ${b.packages.join(' ')} into ${dir}`);
    await npmInstall(side, b, log);
    await writeFile(join(side, MARKER), `${JSON.stringify({ packages: b.packages, installedAt: new Date().toISOString(), ms: Date.now() - started }, null, 2)}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(side, dir);
    log(`agents cache: ${b.id} installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { dir, installed: true, ms: Date.now() - started };
  } finally {
    await release();
  }
}

/** Side folders (`<dir>.partial-<pid>`) of installs whose process died: half installs, removed. */
async function removeDeadSideFolders(dir: string): Promise<void> {
  const prefix = `${basename(dir)}.partial-`;
  for (const name of await readdir(dirname(dir)).catch(() => [] as string[])) {
    const pid = Number(name.slice(prefix.length));
    if (name.startsWith(prefix) && pid > 0 && pid !== process.pid && !alive(pid)) await rm(join(dirname(dir), name), { recursive: true, force: true });
  }
}

/** npm itself, exact versions, with what `npm test` put in our environment (npm_config_*, npm_package_*) removed. */
function npmInstall(cwd: string, b: Bundle, log: Log): Promise<void> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  const args = ['install', '--save-exact', '--no-audit', '--no-fund', '--loglevel=error', ...b.packages];
  return new Promise((resolve, reject) => {
    const child = reap(spawn('npm', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true }), { group: true });
    let out = '';
    const keep = (d: Buffer): void => {
      out = (out + d.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const started = Date.now();
    const tick = setInterval(() => log(`agents cache: still installing ${b.id} (${Math.round((Date.now() - started) / 1000)} s)`), 20_000);
    const killer = setTimeout(() => {
      log(`agents cache: ${b.id} not installed within ${INSTALL_TIMEOUT_MS / 1000} s, stopping npm`);
      killGroup(child.pid);
    }, INSTALL_TIMEOUT_MS);
    child.on('error', (err) => {
      clearInterval(tick);
      clearTimeout(killer);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearInterval(tick);
      clearTimeout(killer);
      killGroup(child.pid);
      release(child);
      if (code === 0) resolve();
      else reject(new Error(`npm install ${b.id} ended with ${code ?? signal}: ${out.trim().split('\n').slice(-6).join(' | ')}`));
    });
  });
}

export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A lock folder holding the owner's pid. A lock whose owner died is moved aside under a name of our own before it
 * is removed, so two waiters that both found it stale cannot remove each other's new lock.
 */
async function lock(path: string, log: Log, what: string): Promise<() => Promise<void>> {
  let announced = false;
  for (;;) {
    try {
      await mkdir(path);
      await writeFile(join(path, 'pid'), String(process.pid));
      return () => rm(path, { recursive: true, force: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ENOENT: our fresh lock was taken away as stale before its pid was written; try again.
      if (code !== 'EEXIST' && code !== 'ENOENT') throw err;
    }
    const owner = Number(await readFile(join(path, 'pid'), 'utf8').catch(() => ''));
    const age = await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
    // No pid yet: just created by someone (judge by age), or left empty by a crash.
    if ((owner > 0 && !alive(owner)) || (!owner && age > 10_000)) {
      const aside = `${path}.stale-${process.pid}-${Date.now()}`;
      if (await rename(path, aside).then(() => true, () => false)) await rm(aside, { recursive: true, force: true });
      continue;
    }
    if (!announced) log(`agents cache: waiting for another install of ${what} (pid ${owner || '?'})`);
    announced = true;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
