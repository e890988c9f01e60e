/**
 * The floor chain as a third column of `npm run bench`.
 *
 * `../shared/floor-bench/` (beside the project's root; read-only) is a bare chain of the same hops as Tokios — node:http
 * ingress → NATS → terminator → one WebSocket → connector → undici pool — with no auth, validation or logging: what any
 * implementation of this architecture pays on this machine. Its `bench.mjs` runs Tokios beside it when given
 * `TOKIOS_DIR`, on the same model server, NATS and load generators (wrk, autocannon). Because that folder is read-only
 * and its imports (`nats`, `ws`, `undici`, `autocannon`) must resolve, its files are copied into `bench/floor-build/`
 * (ignored by git), whose `node_modules` is a link to the project's own.
 *
 * Tokios runs there with everything a production deployment switches on that costs per request: a fabric secret
 * (signed control messages), metrics and request-id logging at the default level the floor bench sets (warn).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface FloorOptions {
  /** The project's root (bench/dist/../..). */
  root: string;
  /** Where the floor chain's sources are; default $TOKIOS_FLOOR_DIR, else `<root>/../shared/floor-bench`. */
  source?: string;
  log: (line: string) => void;
}

/** Issue 11's targets, Tokios ÷ floor chain, measured in the same run. */
export const FLOOR_TARGETS = {
  /** CPU per non-streamed request, all Tokios processes vs all floor processes (c=16). */
  cpuPerRequest: 1.3,
  /** requests/s at c=16 and c=64. */
  rps: 0.8,
  /** Added p50 at c=1 (over the direct call). */
  addedP50: 1.3,
  /** Streamed chunks/s (64 × 1,024). */
  chunksPerSec: 2,
  /** CPU per streamed chunk. */
  cpuPerChunk: 0.5,
} as const;

export interface FloorCheck {
  name: string;
  floor: number;
  tokios: number;
  ratio: number;
  goal: string;
  pass: boolean;
}

export interface FloorReport {
  /** Why the floor column is missing, when it is. */
  skipped?: string;
  checks: FloorCheck[];
  text: string;
  summary?: string;
}

interface NsRow {
  target: string;
  conc: number;
  wrk: { rps: number; p50_us: number };
  wrk_cpu_us_per_req: Record<string, number>;
}
interface TpRow {
  target: string;
  chunks_per_s: number;
  cpu_us_per_1k_chunks: Record<string, number>;
}
interface FloorRaw {
  ns: NsRow[];
  tp: TpRow[];
}

const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Copies the floor chain's files (not its results) into a build folder whose imports resolve to our node_modules. */
function prepare(source: string, root: string): string {
  const dir = join(root, 'bench/floor-build');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(source)) {
    const from = join(source, f);
    if (statSync(from).isFile()) copyFileSync(from, join(dir, f));
  }
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

function newestRaw(dir: string): FloorRaw | undefined {
  const results = join(dir, 'results');
  if (!existsSync(results)) return undefined;
  const raw = readdirSync(results).filter((f) => f.startsWith('raw-') && f.endsWith('.json')).sort().pop();
  return raw ? (JSON.parse(readFileSync(join(results, raw), 'utf8')) as FloorRaw) : undefined;
}

/** Runs the floor chain with Tokios beside it; resolves with the ratios against issue 11's targets. */
export async function runFloor(opts: FloorOptions): Promise<FloorReport> {
  const source = opts.source ?? process.env.TOKIOS_FLOOR_DIR ?? join(opts.root, '../shared/floor-bench');
  if (!existsSync(join(source, 'bench.mjs'))) return { skipped: `no floor chain at ${source}`, checks: [], text: '' };
  for (const cmd of ['wrk', 'nats-server']) {
    if (!hasCommand(cmd)) return { skipped: `${cmd} is not on PATH (apt-get install -y ${cmd})`, checks: [], text: '' };
  }
  const dir = prepare(source, opts.root);
  const env = {
    ...process.env,
    TOKIOS_DIR: opts.root,
    REPS: process.env.FLOOR_REPS ?? '2',
    ONLY: process.env.FLOOR_ONLY ?? 'ns,tp',
    TOKIOS_FABRIC_SECRET: randomBytes(32).toString('hex'),
  };
  opts.log(`floor chain: ${dir} (REPS=${env.REPS}, ONLY=${env.ONLY}); this takes several minutes`);
  const code = await new Promise<number>((resolve) => {
    const c = spawn(process.execPath, ['bench.mjs'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let summary = '';
    c.stdout.on('data', (d: Buffer) => (summary += d.toString()));
    c.stderr.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.trim()) opts.log(`floor: ${line}`);
    });
    // bench.mjs bounds itself (40 min); this is the outer bound should it hang.
    const t = setTimeout(() => c.kill('SIGTERM'), 45 * 60_000);
    c.on('exit', (status) => {
      clearTimeout(t);
      resolve(status ?? 1);
    });
    process.once('exit', () => c.kill('SIGTERM'));
  });
  const raw = newestRaw(dir);
  if (code !== 0 || !raw) return { skipped: `floor chain exited ${code}`, checks: [], text: '' };
  return report(raw);
}

export function report(raw: FloorRaw): FloorReport {
  const ns = (t: string, c: number, f: (r: NsRow) => number): number => median(raw.ns.filter((r) => r.target === t && r.conc === c).map(f));
  const tp = (t: string, f: (r: TpRow) => number): number => median(raw.tp.filter((r) => r.target === t).map(f));
  const checks: FloorCheck[] = [];
  const add = (name: string, floor: number, tokios: number, ratio: number, goal: string, pass: boolean): void => {
    checks.push({ name, floor, tokios, ratio, goal, pass });
  };
  if (raw.ns.length) {
    const direct1 = ns('direct', 1, (r) => r.wrk.p50_us);
    const floorAdded = ns('tunnel', 1, (r) => r.wrk.p50_us) - direct1;
    const tokiosAdded = ns('tokios', 1, (r) => r.wrk.p50_us) - direct1;
    add('added p50 at c=1 (µs)', floorAdded, tokiosAdded, tokiosAdded / floorAdded, `<= ${FLOOR_TARGETS.addedP50}x`, tokiosAdded / floorAdded <= FLOOR_TARGETS.addedP50);
    for (const c of [16, 64]) {
      const f = ns('tunnel', c, (r) => r.wrk.rps);
      const t = ns('tokios', c, (r) => r.wrk.rps);
      add(`requests/s at c=${c} (wrk)`, f, t, t / f, `>= ${FLOOR_TARGETS.rps}x`, t / f >= FLOOR_TARGETS.rps);
    }
    const f = ns('tunnel', 16, (r) => r.wrk_cpu_us_per_req.tunnel_hops!);
    const t = ns('tokios', 16, (r) => r.wrk_cpu_us_per_req.tokios_hops!);
    add('CPU µs per request, all hops, c=16', f, t, t / f, `<= ${FLOOR_TARGETS.cpuPerRequest}x`, t / f <= FLOOR_TARGETS.cpuPerRequest);
  }
  if (raw.tp.length) {
    const f = tp('tunnel', (r) => r.chunks_per_s);
    const t = tp('tokios', (r) => r.chunks_per_s);
    add('streamed chunks/s, 64 × 1,024', f, t, t / f, `>= ${FLOOR_TARGETS.chunksPerSec}x`, t / f >= FLOOR_TARGETS.chunksPerSec);
    const fc = tp('tunnel', (r) => r.cpu_us_per_1k_chunks.tunnel_hops!);
    const tc = tp('tokios', (r) => r.cpu_us_per_1k_chunks.tokios_hops!);
    add('CPU µs per 1,000 chunks, all hops', fc, tc, tc / fc, `<= ${FLOOR_TARGETS.cpuPerChunk}x`, tc / fc <= FLOOR_TARGETS.cpuPerChunk);
  }
  const fmt = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
  const rows = [['vs the floor chain (same run)', 'floor chain', 'Tokios', 'Tokios ÷ floor', 'goal', '']];
  for (const c of checks) rows.push([c.name, fmt(c.floor), fmt(c.tokios), Number.isFinite(c.ratio) ? `${c.ratio.toFixed(2)}x` : 'n/a', c.goal, c.pass ? 'PASS' : 'MISS']);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const text = rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n');
  return { checks, text };
}
